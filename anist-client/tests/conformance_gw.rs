//! Conformance of the sandbox's GovWay-like front with protocol reference
//! §3.2 (INTEGRITY_REST_02), §3.3 (AUDIT_REST_02), §3.5 (time windows and
//! replay) and §4 (errors, quota, throttling): for every rule, the
//! violating request (raw HTTP, every header built by hand) is refused
//! with GovWay's status and RFC 7807 body, and the compliant one is
//! accepted. Then the real client ([`anist_client::call`]) through the
//! front: the echo round trip, quota not retried, throttling retried
//! after `Retry-After`, one voucher renewal on 401.
//!
//! Everything talks to 127.0.0.1 only; every sandbox stops with its test.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{client_key, other_client_key, sandbox_key, stranger_key};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anist_client::call::{CallError, Caller, ServiceProfile};
use anist_client::clock::ManualClock;
use anist_client::env::{Environment, SANDBOX_VOUCHER_ISSUER};
use anist_client::ids::{ClientId, PurposeId};
use anist_client::keys::PrivateKey;
use anist_client::modi::{AuditContext, ModiSigner};
use anist_client::sandbox::registry::{
    Agreement, Client, Descriptor, EService, Front, Purpose, Registry, Tenant, DEFAULT_CLIENT,
    DEFAULT_CONSUMER, DEFAULT_PRODUCER, ECHO_AUDIENCE, ECHO_DESCRIPTOR, ECHO_EROGATORE,
    ECHO_ESERVICE, ECHO_PURPOSE, ECHO_SERVICE,
};
use anist_client::sandbox::{
    Fault, GatewayConfig, Route, Sandbox, SandboxConfig, SandboxHandle, REASON_HEADER,
};
use anist_client::transport::Backoff;
use anist_client::voucher::cache::{CachePolicy, VoucherCache, VoucherKey};
use anist_client::voucher::http::HttpTokenFetcher;
use anist_core::ErrorCode;
use aws_lc_rs::digest;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Map, Value};

const NOW: i64 = 1_764_000_000;
const OTHER_ESERVICE: &str = "7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e";
const OTHER_DESCRIPTOR: &str = "a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d";
const OTHER_PURPOSE: &str = "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const OTHER_AUDIENCE: &str = "https://sandbox.anist.invalid/govway/rest/in/AnistSandbox/other/v1";
const OTHER_CLIENT: &str = "00000000-1111-4222-8333-444444444444";

/// The default registry, plus a second e-service (same client) and a
/// second client.
fn registry() -> Registry {
    Registry::default_builder(client_key().public_key().clone())
        .eservice(EService::new(
            OTHER_ESERVICE,
            DEFAULT_PRODUCER,
            Descriptor::new(OTHER_DESCRIPTOR, OTHER_AUDIENCE)
                .front(Front::new(ECHO_EROGATORE, "other")),
        ))
        .agreement(Agreement::new(OTHER_ESERVICE, DEFAULT_CONSUMER))
        .purpose(Purpose::new(
            OTHER_PURPOSE,
            OTHER_ESERVICE,
            DEFAULT_CONSUMER,
        ))
        .client(
            Client::new(OTHER_CLIENT, DEFAULT_CONSUMER)
                .key(other_client_key().public_key().clone())
                .purpose(OTHER_PURPOSE),
        )
        .build()
        .unwrap()
}

/// A registry whose echo e-service has another front profile and quota.
fn echo_registry(front: Front, daily_calls: u64) -> Registry {
    Registry::builder()
        .tenant(Tenant::new(DEFAULT_CONSUMER, "Comune"))
        .tenant(Tenant::new(DEFAULT_PRODUCER, "Erogatore"))
        .eservice(EService::new(
            ECHO_ESERVICE,
            DEFAULT_PRODUCER,
            Descriptor::new(ECHO_DESCRIPTOR, ECHO_AUDIENCE)
                .daily_calls(daily_calls)
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
    http: reqwest::Client,
    clock: Arc<ManualClock>,
}

async fn start(registry: Registry, tune: impl FnOnce(SandboxConfig) -> SandboxConfig) -> World {
    let clock = Arc::new(ManualClock::new(NOW));
    let config = SandboxConfig::new(registry)
        .clock(clock.clone())
        .signing_key(sandbox_key())
        .seed(11);
    World {
        sandbox: Sandbox::start(tune(config)).await.unwrap(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        clock,
    }
}

async fn world() -> World {
    start(registry(), |c| c).await
}

/// Signs `header.payload` with RS256 by hand (aws-lc-rs directly).
fn sign_with(header: &Value, payload: &Value, key: &PrivateKey) -> String {
    let pem = key.to_pkcs8_pem().unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(b64).unwrap();
    let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).unwrap();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn sha256(b: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, b).as_ref().to_vec()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn fresh_jti() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("00000000-0000-4000-8000-{n:012}")
}

/// Every piece of a call, compliant by default; tests break one.
struct Parts {
    voucher_header: Value,
    voucher: Value,
    voucher_key: Arc<PrivateKey>,
    /// Put `digest = sha256(TE)` into the voucher.
    bind_digest: bool,
    te_header: Value,
    te: Value,
    te_key: Arc<PrivateKey>,
    sig_header: Value,
    sig: Value,
    sig_key: Arc<PrivateKey>,
    /// `signed_headers` built from the headers sent, unless set in `sig`.
    body: Vec<u8>,
    content_type: Option<String>,
    content_encoding: Option<String>,
    /// `Digest` computed over `body` unless overridden.
    digest: Option<Option<String>>,
    authorization: Option<Option<String>>,
    send_te: bool,
    send_sig: bool,
    path: String,
}

fn modi_header(k: &PrivateKey) -> Value {
    json!({ "alg": "RS256", "typ": "JWT", "kid": k.kid().as_str() })
}

fn parts(w: &World) -> Parts {
    Parts {
        voucher_header: json!({"alg": "RS256", "use": "sig", "typ": "at+jwt", "kid": w.sandbox.voucher_kid()}),
        voucher: json!({
            "jti": fresh_jti(), "iss": SANDBOX_VOUCHER_ISSUER, "aud": ECHO_AUDIENCE,
            "client_id": DEFAULT_CLIENT, "sub": DEFAULT_CLIENT,
            "iat": NOW, "nbf": NOW, "exp": NOW + 600, "purposeId": ECHO_PURPOSE,
        }),
        voucher_key: sandbox_key(),
        bind_digest: true,
        te_header: modi_header(&client_key()),
        te: json!({
            "iss": DEFAULT_CLIENT, "aud": ECHO_AUDIENCE, "purposeId": ECHO_PURPOSE,
            "jti": fresh_jti(), "iat": NOW, "nbf": NOW, "exp": NOW + 600,
            "dnonce": 1_234_567_890_123_u64, "userID": "operatore-1", "userLocation": "c_h501", "LoA": "LoA3",
        }),
        te_key: client_key(),
        sig_header: modi_header(&client_key()),
        sig: json!({
            "iss": DEFAULT_CLIENT, "sub": DEFAULT_CLIENT, "aud": ECHO_AUDIENCE,
            "iat": NOW, "nbf": NOW, "exp": NOW + 300, "jti": fresh_jti(),
        }),
        sig_key: client_key(),
        body: br#"{"domanda":"ping","n":1}"#.to_vec(),
        content_type: Some("application/json".into()),
        content_encoding: None,
        digest: None,
        authorization: None,
        send_te: true,
        send_sig: true,
        path: format!("{ECHO_EROGATORE}/{ECHO_SERVICE}/v1/echo"),
    }
}

fn obj(v: &mut Value) -> &mut Map<String, Value> {
    v.as_object_mut().unwrap()
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn send(w: &World, mut p: Parts) -> Answer {
    let te = sign_with(&p.te_header, &p.te, &p.te_key);
    if p.bind_digest && !obj(&mut p.voucher).contains_key("digest") {
        obj(&mut p.voucher).insert(
            "digest".into(),
            json!({"alg": "SHA256", "value": hex(&sha256(te.as_bytes()))}),
        );
    }
    let voucher = sign_with(&p.voucher_header, &p.voucher, &p.voucher_key);
    let digest = p
        .digest
        .clone()
        .unwrap_or_else(|| Some(format!("SHA-256={}", STANDARD.encode(sha256(&p.body)))));
    if !obj(&mut p.sig).contains_key("signed_headers") {
        let mut signed = Vec::new();
        if let Some(d) = &digest {
            signed.push(json!({ "digest": d }));
        }
        if let Some(ct) = &p.content_type {
            signed.push(json!({ "content-type": ct }));
        }
        if let Some(ce) = &p.content_encoding {
            signed.push(json!({ "content-encoding": ce }));
        }
        obj(&mut p.sig).insert("signed_headers".into(), Value::Array(signed));
    }
    let sig = sign_with(&p.sig_header, &p.sig, &p.sig_key);
    let url = format!("{}/govway/rest/in/{}", w.sandbox.base_url(), p.path);
    let mut b = w.http.post(url).body(p.body.clone());
    match p.authorization.clone() {
        None => b = b.header("Authorization", format!("Bearer {voucher}")),
        Some(Some(a)) => b = b.header("Authorization", a.replace("{voucher}", &voucher)),
        Some(None) => {}
    }
    if let Some(ct) = &p.content_type {
        b = b.header("Content-Type", ct);
    }
    if let Some(ce) = &p.content_encoding {
        b = b.header("Content-Encoding", ce);
    }
    if let Some(d) = &digest {
        b = b.header("Digest", d);
    }
    if p.send_sig {
        b = b.header("Agid-JWT-Signature", sig);
    }
    if p.send_te {
        b = b.header("Agid-JWT-TrackingEvidence", te);
    }
    let r = b.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

/// GovWay's problem, exactly (§4.1), with the transaction headers.
fn assert_problem(a: &Answer, status: u16, title: &str) {
    assert_eq!(
        (a.status, a.body["title"].as_str()),
        (status, Some(title)),
        "reason: {:?}, body {}",
        a.header(REASON_HEADER),
        a.body
    );
    assert_eq!(a.header("content-type"), Some("application/problem+json"));
    let b = a.body.as_object().unwrap();
    let mut keys: Vec<&str> = b.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["detail", "govway_id", "status", "title", "type"]);
    assert_eq!(
        b["type"],
        format!("https://govway.org/handling-errors/{status}/{title}.html")
    );
    assert_eq!(b["status"], status);
    assert!(b["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(
        a.header("govway-transaction-id"),
        b["govway_id"].as_str(),
        "govway_id is the transaction id"
    );
    assert_eq!(a.header("govway-transaction-errortype"), Some(title));
    if !(status == 429 && title == "TooManyRequests") {
        assert!(a.header("retry-after").is_none());
    }
}

fn assert_accepted(a: &Answer) {
    assert_eq!(
        a.status,
        200,
        "reason: {:?}, body {}",
        a.header(REASON_HEADER),
        a.body
    );
    assert_eq!(a.body["received"], json!({"domanda":"ping","n":1}));
    assert_eq!(
        a.body["caller"],
        json!({"clientId": DEFAULT_CLIENT, "purposeId": ECHO_PURPOSE, "eserviceId": ECHO_ESERVICE})
    );
    assert!(a.header("govway-transaction-id").is_some());
}

/// One rule: the violation is refused with `status`/`title`, the same call
/// made compliant (fresh `jti`s) is accepted.
macro_rules! rule {
    ($name:ident, $status:expr, $title:expr, |$p:ident| $break:block) => {
        #[tokio::test]
        async fn $name() {
            let w = world().await;
            let mut $p = parts(&w);
            $break
            assert_problem(&send(&w, $p).await, $status, $title);
            assert_accepted(&send(&w, parts(&w)).await);
            w.sandbox.shutdown().await;
        }
    };
}

const INTEROP: &str = "InteroperabilityInvalidRequest";

// ---- Routing -----------------------------------------------------------

rule!(unknown_api_is_404, 404, "UnknownAPI", |p| {
    p.path = format!("{ECHO_EROGATORE}/nothing/v1/echo");
});
rule!(unknown_operation_is_404, 404, "UndefinedOperation", |p| {
    p.path = format!("{ECHO_EROGATORE}/{ECHO_SERVICE}/v1/echo2");
});
rule!(echo_wants_a_json_body, 400, "InvalidRequestContent", |p| {
    p.body = b"not json".to_vec();
});

// ---- The voucher (ID_AUTH_REST_01) ------------------------------------

rule!(
    voucher_is_required,
    401,
    "TokenAuthenticationRequired",
    |p| {
        p.authorization = Some(None);
    }
);
// A voucher without cnf.jkt sent as DPoP (see conformance_dpop for DPoP).
rule!(
    voucher_goes_as_bearer,
    401,
    "TokenAuthenticationFailed",
    |p| {
        p.authorization = Some(Some("DPoP {voucher}".into()));
    }
);
rule!(
    voucher_signed_by_pdnd,
    401,
    "TokenAuthenticationFailed",
    |p| {
        p.voucher_key = stranger_key();
    }
);
rule!(
    voucher_kid_in_the_jwks,
    401,
    "TokenAuthenticationFailed",
    |p| {
        obj(&mut p.voucher_header)
            .insert("kid".into(), json!("9432c16b-7aae-49df-b9c4-ea61b556652b"));
    }
);
rule!(voucher_alg_rs256, 401, "TokenAuthenticationFailed", |p| {
    obj(&mut p.voucher_header).insert("alg".into(), json!("RS512"));
});
rule!(voucher_issuer, 401, "TokenAuthenticationFailed", |p| {
    obj(&mut p.voucher).insert("iss".into(), json!("interop.pagopa.it"));
});
rule!(voucher_not_expired, 401, "TokenExpired", |p| {
    obj(&mut p.voucher).insert("exp".into(), json!(NOW));
});
rule!(voucher_not_before, 401, "TokenNotBefore", |p| {
    obj(&mut p.voucher).insert("nbf".into(), json!(NOW + 10));
});
rule!(voucher_not_from_the_future, 401, "TokenInTheFuture", |p| {
    obj(&mut p.voucher).insert("iat".into(), json!(NOW + 6));
    obj(&mut p.voucher).insert("nbf".into(), json!(NOW));
});
rule!(
    voucher_purpose_required,
    401,
    "TokenRequiredClaimsNotFound",
    |p| {
        obj(&mut p.voucher).remove("purposeId");
    }
);
rule!(
    voucher_audience_of_this_eservice,
    403,
    "AuthorizationTokenDeny",
    |p| {
        obj(&mut p.voucher).insert("aud".into(), json!(OTHER_AUDIENCE));
    }
);
rule!(
    voucher_purpose_on_this_eservice,
    403,
    "AuthorizationDeny",
    |p| {
        obj(&mut p.voucher).insert("purposeId".into(), json!(OTHER_PURPOSE));
    }
);
rule!(
    voucher_client_associated_with_purpose,
    403,
    "AuthorizationDeny",
    |p| {
        obj(&mut p.voucher).insert("client_id".into(), json!(OTHER_CLIENT));
    }
);

// ---- INTEGRITY_REST_02 (§3.2) -----------------------------------------

rule!(digest_required_with_a_body, 400, INTEROP, |p| {
    p.digest = Some(None);
});
rule!(digest_over_the_exact_body, 400, INTEROP, |p| {
    p.digest = Some(Some(format!(
        "SHA-256={}",
        STANDARD.encode(sha256(br#"{"domanda": "ping", "n": 1}"#))
    )));
});
rule!(digest_is_base64_not_hex, 400, INTEROP, |p| {
    p.digest = Some(Some(format!("SHA-256={}", hex(&sha256(&p.body)))));
});
rule!(digest_is_sha256, 400, INTEROP, |p| {
    let d = digest::digest(&digest::SHA512, &p.body);
    p.digest = Some(Some(format!("SHA-512={}", STANDARD.encode(d.as_ref()))));
});
rule!(digest_is_rfc3230_not_content_digest, 400, INTEROP, |p| {
    p.digest = Some(Some(format!(
        "sha-256=:{}:",
        STANDARD.encode(sha256(&p.body))
    )));
});
rule!(signature_required, 400, INTEROP, |p| {
    p.send_sig = false;
});
rule!(signature_kid_registered_on_pdnd, 400, INTEROP, |p| {
    p.sig_key = stranger_key();
    p.sig_header = modi_header(&stranger_key());
});
rule!(signature_verifies_with_the_kid, 400, INTEROP, |p| {
    p.sig_key = stranger_key();
});
rule!(signature_kid_of_the_voucher_client, 400, INTEROP, |p| {
    p.sig_key = other_client_key();
    p.sig_header = modi_header(&other_client_key());
});
rule!(signature_alg_rs256, 400, INTEROP, |p| {
    obj(&mut p.sig_header).insert("alg".into(), json!("PS256"));
});
rule!(signature_audience, 400, INTEROP, |p| {
    obj(&mut p.sig).insert("aud".into(), json!(format!("{ECHO_AUDIENCE}/echo")));
});
rule!(signature_jti_required, 400, INTEROP, |p| {
    obj(&mut p.sig).remove("jti");
});
rule!(signed_headers_cover_the_digest, 400, INTEROP, |p| {
    obj(&mut p.sig).insert(
        "signed_headers".into(),
        json!([{ "content-type": "application/json" }]),
    );
});
rule!(signed_headers_cover_the_content_type, 400, INTEROP, |p| {
    let d = format!("SHA-256={}", STANDARD.encode(sha256(&p.body)));
    obj(&mut p.sig).insert("signed_headers".into(), json!([{ "digest": d }]));
});
rule!(signed_headers_hold_the_values_sent, 400, INTEROP, |p| {
    let d = format!("SHA-256={}", STANDARD.encode(sha256(&p.body)));
    obj(&mut p.sig).insert(
        "signed_headers".into(),
        json!([{ "digest": d }, { "content-type": "application/json; charset=utf-8" }]),
    );
});
rule!(
    signed_headers_cover_the_content_encoding,
    400,
    INTEROP,
    |p| {
        p.content_encoding = Some("UTF-8".into());
        let d = format!("SHA-256={}", STANDARD.encode(sha256(&p.body)));
        obj(&mut p.sig).insert(
            "signed_headers".into(),
            json!([{ "digest": d }, { "content-type": "application/json" }]),
        );
    }
);
rule!(
    signed_headers_are_single_member_objects,
    400,
    INTEROP,
    |p| {
        let d = format!("SHA-256={}", STANDARD.encode(sha256(&p.body)));
        obj(&mut p.sig).insert(
            "signed_headers".into(),
            json!([{ "digest": d, "content-type": "application/json" }]),
        );
    }
);
rule!(signed_headers_are_sent, 400, INTEROP, |p| {
    let d = format!("SHA-256={}", STANDARD.encode(sha256(&p.body)));
    obj(&mut p.sig).insert(
        "signed_headers".into(),
        json!([{ "digest": d }, { "content-type": "application/json" }, { "content-encoding": "UTF-8" }]),
    );
});

#[tokio::test]
async fn signed_content_encoding_and_header_name_case_are_accepted() {
    let w = world().await;
    let mut p = parts(&w);
    p.content_encoding = Some("UTF-8".into());
    assert_accepted(&send(&w, p).await);
    // Header names in signed_headers compare case-insensitively.
    let mut p = parts(&w);
    let d = format!("SHA-256={}", STANDARD.encode(sha256(&p.body)));
    obj(&mut p.sig).insert(
        "signed_headers".into(),
        json!([{ "Digest": d }, { "Content-Type": "application/json" }]),
    );
    assert_accepted(&send(&w, p).await);
}

// ---- Time windows and replay (§3.5) -------------------------------------

rule!(signature_iat_not_older_than_5_minutes, 400, INTEROP, |p| {
    obj(&mut p.sig).insert("iat".into(), json!(NOW - 301));
    obj(&mut p.sig).insert("nbf".into(), json!(NOW - 301));
});
rule!(signature_iat_at_most_5_seconds_ahead, 400, INTEROP, |p| {
    obj(&mut p.sig).insert("iat".into(), json!(NOW + 6));
    obj(&mut p.sig).remove("nbf");
});
rule!(signature_not_expired, 400, INTEROP, |p| {
    obj(&mut p.sig).insert("exp".into(), json!(NOW));
});
rule!(signature_exp_required, 400, INTEROP, |p| {
    obj(&mut p.sig).remove("exp");
});
rule!(signature_nbf_not_future, 400, INTEROP, |p| {
    obj(&mut p.sig).insert("nbf".into(), json!(NOW + 1));
});

#[tokio::test]
async fn window_edges_are_accepted() {
    let w = world().await;
    let mut p = parts(&w);
    obj(&mut p.sig).insert("iat".into(), json!(NOW - 300));
    obj(&mut p.sig).insert("nbf".into(), json!(NOW - 300));
    assert_accepted(&send(&w, p).await);
    let mut p = parts(&w);
    obj(&mut p.sig).insert("iat".into(), json!(NOW + 5));
    obj(&mut p.sig).remove("nbf");
    assert_accepted(&send(&w, p).await);
    let mut p = parts(&w);
    obj(&mut p.te).insert("iat".into(), json!(NOW - 300));
    assert_accepted(&send(&w, p).await);
}

#[tokio::test]
async fn signature_jti_replay_is_409() {
    let w = world().await;
    let p = parts(&w);
    let jti = p.sig["jti"].clone();
    assert_accepted(&send(&w, p).await);
    let mut again = parts(&w);
    obj(&mut again.sig).insert("jti".into(), jti);
    assert_problem(&send(&w, again).await, 409, "Conflict");
    assert_accepted(&send(&w, parts(&w)).await);
    // A refused request does not burn its jti.
    let mut bad = parts(&w);
    bad.digest = Some(None);
    let jti = bad.sig["jti"].clone();
    assert_problem(&send(&w, bad).await, 400, INTEROP);
    let mut good = parts(&w);
    obj(&mut good.sig).insert("jti".into(), jti);
    assert_accepted(&send(&w, good).await);
}

// ---- AUDIT_REST_02 (§3.3, U4, U6) ---------------------------------------

rule!(evidence_required, 400, INTEROP, |p| {
    p.send_te = false;
});
rule!(voucher_bound_to_an_evidence, 400, INTEROP, |p| {
    p.bind_digest = false;
});
rule!(evidence_hash_equals_voucher_digest, 400, INTEROP, |p| {
    let other = sign_with(&p.te_header, &json!({"iss": DEFAULT_CLIENT}), &client_key());
    obj(&mut p.voucher).insert(
        "digest".into(),
        json!({"alg": "SHA256", "value": hex(&sha256(other.as_bytes()))}),
    );
});
rule!(evidence_signed_by_a_registered_kid, 400, INTEROP, |p| {
    p.te_key = stranger_key();
    p.te_header = modi_header(&stranger_key());
});
rule!(evidence_signature_verifies, 400, INTEROP, |p| {
    p.te_key = stranger_key();
});
rule!(evidence_user_id_required, 400, INTEROP, |p| {
    obj(&mut p.te).remove("userID");
});
rule!(evidence_user_location_required, 400, INTEROP, |p| {
    obj(&mut p.te).insert("userLocation".into(), json!(" "));
});
rule!(evidence_jti_required, 400, INTEROP, |p| {
    obj(&mut p.te).remove("jti");
});
rule!(evidence_issuer_is_the_client, 400, INTEROP, |p| {
    obj(&mut p.te).insert("iss".into(), json!(OTHER_CLIENT));
});
rule!(evidence_audience, 400, INTEROP, |p| {
    obj(&mut p.te).insert("aud".into(), json!(OTHER_AUDIENCE));
});
rule!(evidence_purpose_is_the_vouchers, 400, INTEROP, |p| {
    obj(&mut p.te).insert("purposeId".into(), json!(OTHER_PURPOSE));
});
rule!(evidence_not_older_than_audit_max_age, 400, INTEROP, |p| {
    obj(&mut p.te).insert("iat".into(), json!(NOW - 301));
    obj(&mut p.te).insert("nbf".into(), json!(NOW - 301));
});
rule!(evidence_not_expired, 400, INTEROP, |p| {
    obj(&mut p.te).insert("exp".into(), json!(NOW - 1));
});

#[tokio::test]
async fn digest_hex_case_is_ignored_unless_strict() {
    for strict in [false, true] {
        let w = start(registry(), |c| {
            c.gateway(GatewayConfig {
                digest_case_sensitive: strict,
                ..GatewayConfig::default()
            })
        })
        .await;
        let mut p = parts(&w);
        let te = sign_with(&p.te_header, &p.te, &p.te_key);
        // Sign the same evidence again: RS256 is deterministic.
        obj(&mut p.voucher).insert(
            "digest".into(),
            json!({"alg": "SHA256", "value": hex(&sha256(te.as_bytes())).to_uppercase()}),
        );
        let a = send(&w, p).await;
        if strict {
            assert_problem(&a, 400, INTEROP);
        } else {
            assert_accepted(&a);
        }
        w.sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn patterns_follow_the_profile() {
    // INTEGRITY_REST_02 only: no evidence, no voucher digest needed.
    let w = start(
        echo_registry(Front::new(ECHO_EROGATORE, ECHO_SERVICE), 100),
        |c| c,
    )
    .await;
    let mut p = parts(&w);
    p.send_te = false;
    p.bind_digest = false;
    assert_accepted(&send(&w, p).await);
    w.sandbox.shutdown().await;
    // Neither pattern: the voucher alone.
    let w = start(
        echo_registry(
            Front::new(ECHO_EROGATORE, ECHO_SERVICE).integrity(false),
            100,
        ),
        |c| c,
    )
    .await;
    let mut p = parts(&w);
    p.send_te = false;
    p.send_sig = false;
    p.digest = Some(None);
    assert_accepted(&send(&w, p).await);
    w.sandbox.shutdown().await;
}

// ---- Quota, concurrency, faults (§4) ------------------------------------

#[tokio::test]
async fn daily_quota_per_client_is_limit_exceeded_without_retry_after() {
    let front = Front::new(ECHO_EROGATORE, ECHO_SERVICE).audit(true);
    let w = start(echo_registry(front, 2), |c| c).await;
    for remaining in ["1", "0"] {
        let a = send(&w, parts(&w)).await;
        assert_accepted(&a);
        assert_eq!(a.header("x-ratelimit-limit"), Some("2"));
        assert_eq!(a.header("x-ratelimit-remaining"), Some(remaining));
    }
    let a = send(&w, parts(&w)).await;
    assert_problem(&a, 429, "LimitExceeded");
    assert_eq!(a.body["detail"], "Limit exceeded detected");
    assert!(a.header("retry-after").is_none());
    let reset: i64 = a.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert_eq!(reset, 86_400 - NOW.rem_euclid(86_400));
    // Refused calls count too; the next day starts afresh.
    let mut bad = parts(&w);
    bad.send_sig = false;
    assert_problem(&send(&w, bad).await, 429, "LimitExceeded");
    w.clock.advance(reset);
    let mut p = parts(&w);
    for (k, v) in [
        ("iat", NOW + reset),
        ("nbf", NOW + reset),
        ("exp", NOW + reset + 300),
    ] {
        obj(&mut p.sig).insert(k.into(), json!(v));
        obj(&mut p.te).insert(k.into(), json!(v));
        obj(&mut p.voucher).insert(k.into(), json!(v));
    }
    assert_accepted(&send(&w, p).await);
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn concurrency_limit_is_too_many_requests_with_retry_after() {
    let front = Front::new(ECHO_EROGATORE, ECHO_SERVICE)
        .audit(true)
        .max_concurrency(1);
    let w = start(echo_registry(front, 100), |c| c).await;
    let route = Route::Front(format!("{ECHO_EROGATORE}/{ECHO_SERVICE}/v1"));
    w.sandbox
        .inject_at(route, Fault::Delay(Duration::from_millis(700)));
    let slow = send(&w, parts(&w));
    let fast = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        send(&w, parts(&w)).await
    };
    let (slow, fast) = tokio::join!(slow, fast);
    assert_accepted(&slow);
    assert_problem(&fast, 429, "TooManyRequests");
    assert_eq!(fast.body["detail"], "Too many requests detected");
    assert_eq!(fast.header("retry-after"), Some("1"));
    assert_eq!(
        fast.header("govway-ratelimit-concurrentrequest-limit"),
        Some("1")
    );
    assert_accepted(&send(&w, parts(&w)).await);
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn injected_faults_answer_as_govway() {
    let w = world().await;
    let route = Route::Front(format!("{ECHO_EROGATORE}/{ECHO_SERVICE}/v1"));
    for (fault, status, title, retry_after) in [
        (Fault::Status(503), 503, "APIUnavailable", None),
        (Fault::Status(502), 502, "BadResponse", None),
        (Fault::Status(504), 504, "EndpointReadTimeout", None),
        (Fault::Status(500), 500, "InternalResponseError", None),
        (Fault::LimitExceeded, 429, "LimitExceeded", None),
        (
            Fault::TooManyRequests {
                retry_after: Some(7),
            },
            429,
            "TooManyRequests",
            Some("7"),
        ),
        (
            Fault::TooManyRequests { retry_after: None },
            429,
            "TooManyRequests",
            None,
        ),
    ] {
        w.sandbox.inject_at(route.clone(), fault);
        let a = send(&w, parts(&w)).await;
        assert_problem(&a, status, title);
        assert_eq!(a.header("retry-after"), retry_after, "{fault:?}");
    }
    let before = Instant::now();
    w.sandbox
        .inject_at(route, Fault::Delay(Duration::from_millis(300)));
    assert_accepted(&send(&w, parts(&w)).await);
    assert!(before.elapsed() >= Duration::from_millis(300));
    w.sandbox.shutdown().await;
}

// ---- The real client through the front ----------------------------------

struct Client2 {
    caller: Caller<HttpTokenFetcher>,
    key: VoucherKey,
    profile: ServiceProfile,
}

fn real_client(w: &World, policy: CachePolicy) -> Client2 {
    let clock: Arc<ManualClock> = w.clock.clone();
    let fetcher = HttpTokenFetcher::new(w.sandbox.endpoints().clone(), client_key(), clock.clone())
        .unwrap()
        .retry_policy(Backoff::never());
    let cache = Arc::new(VoucherCache::with_policy(fetcher, clock.clone(), policy));
    let client = ClientId::parse(DEFAULT_CLIENT).unwrap();
    let caller = Caller::new(cache, ModiSigner::new(client.clone(), client_key()), clock)
        .unwrap()
        .throttle_policy(Backoff {
            seed: Some(3),
            ..Backoff::gateway_throttling()
        });
    let context = AuditContext::new("operatore-1", "c_h501")
        .unwrap()
        .with_loa("LoA3");
    let key = VoucherKey::new(
        Environment::Sandbox,
        client,
        client_key().kid().clone(),
        PurposeId::parse(ECHO_PURPOSE).unwrap(),
    )
    .with_tracking_evidence(&context, ECHO_AUDIENCE);
    let profile = ServiceProfile::new(&w.sandbox.front_url(ECHO_ESERVICE).unwrap(), ECHO_AUDIENCE)
        .audit(true);
    Client2 {
        caller,
        key,
        profile,
    }
}

const BODY: &[u8] = br#"{"domanda":"ping","n":1}"#;

#[tokio::test]
async fn echo_round_trip_through_the_real_client() {
    let w = world().await;
    let c = real_client(&w, CachePolicy::default());
    for _ in 0..3 {
        let r = c
            .caller
            .post_json(&c.profile, &c.key, "echo", BODY)
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.attempts(), 1);
        assert!(r.govway_id().is_some());
        let v: Value = r.json().unwrap();
        assert_eq!(v["received"], json!({"domanda":"ping","n":1}));
        assert_eq!(v["caller"]["clientId"], DEFAULT_CLIENT);
        assert_eq!(v["caller"]["purposeId"], ECHO_PURPOSE);
    }
    // One voucher (with its evidence) for all three; fresh jti each time.
    assert_eq!(w.sandbox.vouchers_issued(), 1);
    assert_eq!(w.sandbox.backend_calls(), 3);
    // The profile's Content-Encoding is sent and signed.
    let profile = c.profile.clone().content_encoding(Some("UTF-8"));
    c.caller
        .post_json(&profile, &c.key, "echo", BODY)
        .await
        .unwrap();
    // AUDIT_REST_02 without an evidence spec is not sent.
    let plain = VoucherKey::new(
        Environment::Sandbox,
        ClientId::parse(DEFAULT_CLIENT).unwrap(),
        client_key().kid().clone(),
        PurposeId::parse(ECHO_PURPOSE).unwrap(),
    );
    let e = c
        .caller
        .post_json(&c.profile, &plain, "echo", BODY)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "call_not_sent");
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn gateway_refusals_keep_govway_id_and_title() {
    let w = world().await;
    let c = real_client(&w, CachePolicy::default());
    // A profile that omits INTEGRITY_REST_02 where the front requires it.
    let profile = c.profile.clone().integrity(false);
    let e = c
        .caller
        .post_json(&profile, &c.key, "echo", BODY)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "gateway_refused");
    assert_eq!(e.title(), Some(INTEROP));
    assert!(e.govway_id().is_some());
    assert!(!e.is_retryable());
    assert!(e.to_string().contains(e.govway_id().unwrap()));
    let e = c
        .caller
        .post_json(&c.profile, &c.key, "nope", BODY)
        .await
        .unwrap_err();
    assert_eq!(e.title(), Some("UndefinedOperation"));
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn quota_exhaustion_is_not_retried() {
    let front = Front::new(ECHO_EROGATORE, ECHO_SERVICE).audit(true);
    let w = start(echo_registry(front, 1), |c| c).await;
    let c = real_client(&w, CachePolicy::default());
    c.caller
        .post_json(&c.profile, &c.key, "echo", BODY)
        .await
        .unwrap();
    let before = w.sandbox.front_requests();
    let e = c
        .caller
        .post_json(&c.profile, &c.key, "echo", BODY)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "gateway_quota_exceeded");
    assert!(!e.is_retryable());
    assert_eq!(e.title(), Some("LimitExceeded"));
    assert!(matches!(e, CallError::QuotaExceeded { reset: Some(_), .. }));
    assert_eq!(w.sandbox.front_requests(), before + 1, "not retried");
    // An injected LimitExceeded is final too.
    let w2 = world().await;
    let c2 = real_client(&w2, CachePolicy::default());
    w2.sandbox.inject_at(
        Route::Front(format!("{ECHO_EROGATORE}/{ECHO_SERVICE}/v1")),
        Fault::LimitExceeded,
    );
    let e = c2
        .caller
        .post_json(&c2.profile, &c2.key, "echo", BODY)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "gateway_quota_exceeded");
    assert_eq!(w2.sandbox.front_requests(), 1);
    w.sandbox.shutdown().await;
    w2.sandbox.shutdown().await;
}

#[tokio::test]
async fn too_many_requests_is_retried_after_retry_after() {
    let w = world().await;
    let c = real_client(&w, CachePolicy::default());
    w.sandbox.inject_at(
        Route::Front(format!("{ECHO_EROGATORE}/{ECHO_SERVICE}/v1")),
        Fault::TooManyRequests {
            retry_after: Some(1),
        },
    );
    let start = Instant::now();
    let r = c
        .caller
        .post_json(&c.profile, &c.key, "echo", BODY)
        .await
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "waited Retry-After"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(r.attempts(), 2);
    assert_eq!(w.sandbox.front_requests(), 2);
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn throttling_beyond_the_retries_or_the_wait_is_reported() {
    let w = world().await;
    let mut c = real_client(&w, CachePolicy::default());
    c.caller = c.caller.throttle_policy(Backoff {
        max_attempts: 1,
        seed: Some(1),
        ..Backoff::gateway_throttling()
    });
    let route = Route::Front(format!("{ECHO_EROGATORE}/{ECHO_SERVICE}/v1"));
    w.sandbox.inject_at(
        route.clone(),
        Fault::TooManyRequests {
            retry_after: Some(9),
        },
    );
    let e = c
        .caller
        .post_json(&c.profile, &c.key, "echo", BODY)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "gateway_throttled");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(9)));
    assert!(e.is_retryable());
    // 5xx is reported, not retried by the helper.
    w.sandbox.inject_at(route, Fault::Status(503));
    let before = w.sandbox.front_requests();
    let e = c
        .caller
        .post_json(&c.profile, &c.key, "echo", BODY)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "gateway_server_error");
    assert_eq!(e.title(), Some("APIUnavailable"));
    assert!(e.is_retryable());
    assert_eq!(w.sandbox.front_requests(), before + 1);
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn unauthorized_renews_the_voucher_once() {
    let w = world().await;
    // A cache that would keep vouchers well past their expiry: only the
    // gateway's 401 makes it let go.
    let c = real_client(
        &w,
        CachePolicy {
            renew_margin: -10_000,
            audit_max_age: 10_000,
        },
    );
    c.caller
        .post_json(&c.profile, &c.key, "echo", BODY)
        .await
        .unwrap();
    assert_eq!(w.sandbox.vouchers_issued(), 1);
    w.clock.advance(601);
    let r = c
        .caller
        .post_json(&c.profile, &c.key, "echo", BODY)
        .await
        .unwrap();
    assert_eq!(r.attempts(), 2, "401 TokenExpired, renewal, success");
    assert_eq!(w.sandbox.vouchers_issued(), 2);
    // Two 401s in a row: one renewal, then the refusal is reported.
    let route = Route::Front(format!("{ECHO_EROGATORE}/{ECHO_SERVICE}/v1"));
    w.sandbox.inject_at(route.clone(), Fault::Status(401));
    w.sandbox.inject_at(route, Fault::Status(401));
    let e = c
        .caller
        .post_json(&c.profile, &c.key, "echo", BODY)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "gateway_refused");
    assert_eq!(e.title(), Some("TokenAuthenticationFailed"));
    assert_eq!(w.sandbox.vouchers_issued(), 3);
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn fetcher_binds_the_voucher_to_the_evidence() {
    let w = world().await;
    let c = real_client(&w, CachePolicy::default());
    let v = c.caller.cache().get(&c.key).await.unwrap();
    let te = v
        .tracking_evidence()
        .expect("evidence returned with the voucher");
    assert_eq!(v.voucher().digest(), Some(te.digest().as_hex()));
    assert_eq!(
        te.digest().as_hex(),
        hex(&sha256(te.jws().as_str().as_bytes()))
    );
    // A key with only a fingerprint cannot be signed.
    let fingerprint_only = VoucherKey::new(
        Environment::Sandbox,
        ClientId::parse(DEFAULT_CLIENT).unwrap(),
        client_key().kid().clone(),
        PurposeId::parse(ECHO_PURPOSE).unwrap(),
    )
    .with_audit(&AuditContext::new("operatore-1", "c_h501").unwrap());
    let e = c.caller.cache().get(&fingerprint_only).await.unwrap_err();
    assert_eq!(e.code(), "voucher_not_sent");
    assert!(!format!("{:?}", c.key).contains("operatore-1"));
    w.sandbox.shutdown().await;
}
