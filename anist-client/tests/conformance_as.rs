//! Conformance of the sandbox's PDND authorization server with protocol
//! reference §2.3–§2.7: for every check of §2.4, the violating request is
//! refused with PDND's status and body, and the compliant one is accepted.
//! Then the real client against it: a voucher end to end, the cache's
//! single flight, retries after 429 and 500.
//!
//! Assertions that the builder would never produce are signed by hand.
//! Everything talks to 127.0.0.1 only; every sandbox stops with its test.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{client_key, sandbox_key, stranger_key};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anist_client::clock::ManualClock;
use anist_client::env::{Environment, SANDBOX_ASSERTION_AUDIENCE, SANDBOX_VOUCHER_ISSUER};
use anist_client::ids::{ClientId, PurposeId};
use anist_client::jws::decode_unverified;
use anist_client::keys::{PrivateKey, PublicKey};
use anist_client::sandbox::registry::{
    Agreement, Client, Descriptor, EService, Purpose, Registry, RegistryBuilder, State, Tenant,
};
use anist_client::sandbox::{Fault, Sandbox, SandboxConfig, SandboxHandle, REASON_HEADER};
use anist_client::transport::Backoff;
use anist_client::voucher::cache::{TokenFetcher, VoucherCache, VoucherKey};
use anist_client::voucher::http::{FetchError, HttpTokenFetcher};
use anist_core::ErrorCode;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};

const NOW: i64 = 1_764_000_000;
const CONSUMER: &str = "6a1c4a0e-0d0b-4c38-9a47-3c4a1f0c2b11";
const PRODUCER: &str = "0f1e2d3c-4b5a-4697-8877-665544332211";
const ESERVICE: &str = "5e7a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b";
const DESCRIPTOR: &str = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6";
const ESERVICE2: &str = "7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e";
const DESCRIPTOR2: &str = "a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d";
const PURPOSE: &str = "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e";
const PURPOSE2: &str = "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const CLIENT: &str = "c9b73ff4-e203-4580-911b-689514d350c2";
const OTHER_UUID: &str = "00000000-1111-4222-8333-444444444444";
const AUDIENCE: &str = "https://sandbox.anist.invalid/anist/frequenze/v1";
const AUDIENCE_B: &str = "https://sandbox.anist.invalid/anist/frequenze/v1/b";
const TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn registry() -> RegistryBuilder {
    Registry::builder()
        .tenant(Tenant::new(CONSUMER, "Comune di Prova"))
        .tenant(Tenant::new(PRODUCER, "Ministero di Prova"))
        .eservice(EService::new(
            ESERVICE,
            PRODUCER,
            Descriptor::new(DESCRIPTOR, AUDIENCE)
                .audience(AUDIENCE_B)
                .voucher_lifespan(600),
        ))
        .eservice(EService::new(
            ESERVICE2,
            PRODUCER,
            Descriptor::new(DESCRIPTOR2, "https://sandbox.anist.invalid/other/v1"),
        ))
        .agreement(Agreement::new(ESERVICE, CONSUMER))
        .agreement(Agreement::new(ESERVICE2, CONSUMER))
        .purpose(Purpose::new(PURPOSE, ESERVICE, CONSUMER))
        .purpose(Purpose::new(PURPOSE2, ESERVICE2, CONSUMER))
}

fn client() -> Client {
    Client::new(CLIENT, CONSUMER)
        .key(client_key().public_key().clone())
        .purpose(PURPOSE)
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
        .seed(7);
    let sandbox = Sandbox::start(tune(config)).await.unwrap();
    World {
        sandbox,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        clock,
    }
}

async fn world() -> World {
    start(registry().client(client()).build().unwrap(), |c| c).await
}

fn header() -> Value {
    json!({ "alg": "RS256", "kid": client_key().kid().as_str(), "typ": "JWT" })
}

fn claims() -> Value {
    json!({
        "iss": CLIENT,
        "sub": CLIENT,
        "aud": SANDBOX_ASSERTION_AUDIENCE,
        "jti": "0b6f0a1e-6f7a-4e1c-9e0e-2f4d8a1c7b55",
        "iat": NOW,
        "exp": NOW + 300,
        "purposeId": PURPOSE,
    })
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

fn sign(header: &Value, payload: &Value) -> String {
    sign_with(header, payload, &client_key())
}

fn edit(mut v: Value, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    f(v.as_object_mut().unwrap());
    v
}

fn form(assertion: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", CLIENT.to_string()),
        ("client_assertion", assertion.to_string()),
        ("client_assertion_type", TYPE.to_string()),
        ("grant_type", "client_credentials".to_string()),
    ]
}

fn without(mut f: Vec<(&'static str, String)>, name: &str) -> Vec<(&'static str, String)> {
    f.retain(|(n, _)| *n != name);
    f
}

fn with(
    mut f: Vec<(&'static str, String)>,
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    f.retain(|(n, _)| *n != name);
    f.push((name, value.to_string()));
    f
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn reason(&self) -> &str {
        self.headers
            .get(REASON_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn post_raw(w: &World, content_type: &str, body: String, extra: &[(&str, &str)]) -> Answer {
    let mut req = w
        .http
        .post(w.sandbox.endpoints().token_url())
        .header("Content-Type", content_type)
        .header("Accept", "application/json")
        .body(body);
    for (n, v) in extra {
        req = req.header(*n, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

async fn post(w: &World, fields: &[(&'static str, String)]) -> Answer {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(n, v)| (*n, v.as_str())))
        .finish();
    post_raw(w, "application/x-www-form-urlencoded", body, &[]).await
}

async fn ask(w: &World, header: &Value, payload: &Value) -> Answer {
    post(w, &form(&sign(header, payload))).await
}

fn is_uuid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| ClientId::parse(s).is_ok())
}

/// The opaque 400 of §2.6, exactly, with the internal reason `code`.
#[track_caller]
fn assert_refused(a: &Answer, code: &str) {
    assert_eq!(a.status, 400, "{a:?}");
    let mut body = a.body.clone();
    assert!(is_uuid(&body["correlationId"]), "{body}");
    body.as_object_mut().unwrap().remove("correlationId");
    assert_eq!(
        body,
        json!({
            "title": "The request contains bad syntax or cannot be fulfilled.",
            "type": "about:blank",
            "status": 400,
            "detail": "Bad request",
            "errors": [{ "code": "015-0008", "detail": "Unable to generate a token for the given request" }],
        })
    );
    assert!(
        a.reason().starts_with(&format!("{code}: ")),
        "expected reason {code}, got {:?}",
        a.reason()
    );
    assert!(a.headers.get("x-rate-limit-limit").is_none());
}

/// The request validator's 400 of §2.6.
#[track_caller]
fn assert_schema(a: &Answer, detail_part: &str) {
    assert_eq!(a.status, 400, "{a:?}");
    let b = &a.body;
    assert_eq!(b["type"], "about:blank");
    assert_eq!(b["title"], "Bad request");
    assert_eq!(b["status"], 400);
    assert_eq!(b["detail"], "Incorrect value for body");
    assert!(is_uuid(&b["correlationId"]));
    assert_eq!(b["errors"][0]["code"], "007-9999");
    let detail = b["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains(detail_part), "{detail}");
    assert!(
        a.reason().starts_with("invalidRequestBody: "),
        "{}",
        a.reason()
    );
    assert_eq!(b.as_object().unwrap().len(), 6);
}

/// A 200 of §2.5 with a voucher for the default purpose.
#[track_caller]
fn assert_issued(a: &Answer) -> serde_json::Map<String, Value> {
    assert_eq!(a.status, 200, "{a:?} reason {}", a.reason());
    assert_eq!(a.body["token_type"], "Bearer");
    assert_eq!(a.body["expires_in"], 600);
    assert_eq!(a.body.as_object().unwrap().len(), 3);
    assert!(a.headers.get(REASON_HEADER).is_none());
    let token = a.body["access_token"].as_str().unwrap();
    decode_unverified(token).unwrap().payload
}

// ---------------------------------------------------------------------------
// Step 0: the request validator (schema errors, 007-9999).

#[tokio::test]
async fn schema_missing_client_assertion() {
    let w = world().await;
    let a = post(
        &w,
        &without(form(&sign(&header(), &claims())), "client_assertion"),
    )
    .await;
    assert_schema(&a, "client_assertion: Required");
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn schema_missing_client_assertion_type() {
    let w = world().await;
    let a = post(
        &w,
        &without(form(&sign(&header(), &claims())), "client_assertion_type"),
    )
    .await;
    assert_schema(&a, "client_assertion_type: Required");
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn schema_grant_type_missing_or_wrong() {
    let w = world().await;
    let jws = sign(&header(), &claims());
    assert_schema(
        &post(&w, &without(form(&jws), "grant_type")).await,
        "grant_type: Required",
    );
    assert_schema(
        &post(&w, &with(form(&jws), "grant_type", "password")).await,
        "Expected 'client_credentials'",
    );
    assert_issued(&post(&w, &form(&jws)).await);
}

#[tokio::test]
async fn schema_client_id_not_uuid_but_optional() {
    let w = world().await;
    let jws = sign(&header(), &claims());
    assert_schema(
        &post(&w, &with(form(&jws), "client_id", "my-client")).await,
        "client_id",
    );
    // client_id is optional: without it, sub alone names the client.
    assert_issued(&post(&w, &without(form(&jws), "client_id")).await);
}

#[tokio::test]
async fn schema_body_must_be_a_form() {
    let w = world().await;
    let jws = sign(&header(), &claims());
    let json_body = json!({
        "client_id": CLIENT, "client_assertion": jws,
        "client_assertion_type": TYPE, "grant_type": "client_credentials",
    });
    let a = post_raw(&w, "application/json", json_body.to_string(), &[]).await;
    assert_schema(&a, "client_assertion: Required");
    assert_issued(&post(&w, &form(&jws)).await);
}

#[tokio::test]
async fn schema_unknown_form_field_is_refused() {
    let w = world().await;
    let jws = sign(&header(), &claims());
    // PagoPA's validator: 400 007-9999 "Unrecognized key(s) in object".
    for extra in ["scope", "resource", "client_secret"] {
        let a = post(&w, &with(form(&jws), extra, "x")).await;
        assert_schema(&a, &format!("Unrecognized key(s) in object: '{extra}'"));
    }
    assert_issued(&post(&w, &form(&jws)).await);
}

#[tokio::test]
async fn schema_errors_are_one_entry_each() {
    let w = world().await;
    let jws = sign(&header(), &claims());
    // Three problems: grant_type wrong, client_id not a UUID, an unknown key.
    let f = with(
        with(with(form(&jws), "grant_type", "password"), "client_id", "x"),
        "scope",
        "openid",
    );
    let a = post(&w, &f).await;
    assert_schema(&a, "Expected 'client_credentials'");
    let errors = a.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{}", a.body);
    for e in errors {
        assert_eq!(e["code"], "007-9999");
        assert_eq!(e.as_object().unwrap().len(), 2);
    }
    assert!(errors[1]["detail"].as_str().unwrap().contains("client_id"));
    assert!(errors[2]["detail"]
        .as_str()
        .unwrap()
        .contains("Unrecognized key(s) in object: 'scope'"));
}

// ---------------------------------------------------------------------------
// Steps 1-2: DPoP header, assertion type.

#[tokio::test]
async fn malformed_dpop_proof_is_refused() {
    let w = world().await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form(&sign(&header(), &claims())))
        .finish();
    let a = post_raw(
        &w,
        "application/x-www-form-urlencoded",
        body,
        &[("DPoP", "x.y.z")],
    )
    .await;
    assert_refused(&a, "dpopProofValidationFailed");
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn assertion_type_must_be_jwt_bearer() {
    let w = world().await;
    let jws = sign(&header(), &claims());
    let a = post(
        &w,
        &with(
            form(&jws),
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        ),
    )
    .await;
    assert_refused(&a, "invalidAssertionType");
    assert_issued(&post(&w, &form(&jws)).await);
}

// ---------------------------------------------------------------------------
// Step 3: the assertion's shape and claims.

#[tokio::test]
async fn assertion_must_be_a_compact_jws() {
    let w = world().await;
    assert_refused(
        &post(&w, &form("not-a-jws")).await,
        "invalidClientAssertionFormat",
    );
    let jws = sign(&header(), &claims());
    let quoted = format!("\"{jws}\"");
    assert_refused(
        &post(&w, &form(&quoted)).await,
        "invalidClientAssertionFormat",
    );
    assert_issued(&post(&w, &form(&jws)).await);
}

macro_rules! missing_claim {
    ($name:ident, $claim:literal, $code:literal) => {
        #[tokio::test]
        async fn $name() {
            let w = world().await;
            let bad = edit(claims(), |c| {
                c.remove($claim);
            });
            assert_refused(&ask(&w, &header(), &bad).await, $code);
            let empty = edit(claims(), |c| {
                c.insert($claim.into(), json!(""));
            });
            assert_refused(&ask(&w, &header(), &empty).await, $code);
            assert_issued(&ask(&w, &header(), &claims()).await);
        }
    };
}

missing_claim!(claim_jti_required, "jti", "jtiNotFound");
missing_claim!(claim_iat_required, "iat", "iatNotFound");
missing_claim!(claim_exp_required, "exp", "expNotFound");
missing_claim!(claim_iss_required, "iss", "issuerNotFound");
missing_claim!(claim_sub_required, "sub", "subjectNotFound");
missing_claim!(claim_aud_required, "aud", "audienceNotFound");

#[tokio::test]
async fn claims_have_their_types() {
    let w = world().await;
    let bad = edit(claims(), |c| {
        c.insert("iat".into(), json!(NOW.to_string()));
    });
    assert_refused(
        &ask(&w, &header(), &bad).await,
        "clientAssertionInvalidClaims",
    );
    let bad = edit(claims(), |c| {
        c.insert("jti".into(), json!(42));
    });
    assert_refused(
        &ask(&w, &header(), &bad).await,
        "clientAssertionInvalidClaims",
    );
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn sub_must_equal_the_client_id_field() {
    let w = world().await;
    let jws = sign(&header(), &claims());
    let a = post(&w, &with(form(&jws), "client_id", OTHER_UUID)).await;
    assert_refused(&a, "invalidSubject");
    assert_issued(&post(&w, &form(&jws)).await);
}

#[tokio::test]
async fn sub_must_be_a_uuid() {
    let w = world().await;
    let bad = edit(claims(), |c| {
        c.insert("sub".into(), json!("comune-di-prova"));
    });
    let a = post(&w, &without(form(&sign(&header(), &bad)), "client_id")).await;
    assert_refused(&a, "invalidSubjectFormat");
    assert_issued(&post(&w, &without(form(&sign(&header(), &claims())), "client_id")).await);
}

#[tokio::test]
async fn purpose_id_must_be_a_uuid() {
    let w = world().await;
    let bad = edit(claims(), |c| {
        c.insert("purposeId".into(), json!("finalita-1"));
    });
    assert_refused(
        &ask(&w, &header(), &bad).await,
        "invalidPurposeIdClaimFormat",
    );
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn kid_is_required() {
    let w = world().await;
    let bad = edit(header(), |h| {
        h.remove("kid");
    });
    assert_refused(&ask(&w, &bad, &claims()).await, "kidNotFound");
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn kid_is_a_43_character_thumbprint() {
    let w = world().await;
    // The .NET generator README's 48-character example.
    let bad = edit(header(), |h| {
        h.insert(
            "kid".into(),
            json!("ZmYxZGE2YjQtMzY2Yy00NWI5LThjNGItMDJmYmQyZGIyZmZh"),
        );
    });
    assert_refused(&ask(&w, &bad, &claims()).await, "invalidKidFormat");
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn aud_is_the_sandbox_assertion_audience() {
    let w = world().await;
    for wrong in [
        json!("auth.uat.interop.pagopa.it/client-assertion"),
        json!(format!("https://{SANDBOX_ASSERTION_AUDIENCE}")),
        json!(AUDIENCE),
        json!(["auth.interop.pagopa.it/client-assertion"]),
    ] {
        let bad = edit(claims(), |c| {
            c.insert("aud".into(), wrong.clone());
        });
        assert_refused(&ask(&w, &header(), &bad).await, "invalidAudience");
    }
    // An array containing the audience is accepted too.
    let good = edit(claims(), |c| {
        c.insert("aud".into(), json!(["x", SANDBOX_ASSERTION_AUDIENCE]));
    });
    assert_issued(&ask(&w, &header(), &good).await);
}

#[tokio::test]
async fn alg_is_rs256() {
    let w = world().await;
    let hs = edit(header(), |h| {
        h.insert("alg".into(), json!("HS256"));
    });
    assert_refused(&ask(&w, &hs, &claims()).await, "algorithmNotAllowed");
    let none = edit(header(), |h| {
        h.remove("alg");
    });
    assert_refused(&ask(&w, &none, &claims()).await, "algorithmNotFound");
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn digest_alg_is_sha256() {
    let w = world().await;
    let value = "5db26201b684761d2b970329ab8596773164ba1b43b1559980e20045941b8065";
    let bad = edit(claims(), |c| {
        c.insert("digest".into(), json!({ "alg": "SHA-256", "value": value }));
    });
    assert_refused(&ask(&w, &header(), &bad).await, "invalidHashAlgorithm");
    let good = edit(claims(), |c| {
        c.insert("digest".into(), json!({ "alg": "SHA256", "value": value }));
    });
    let voucher = assert_issued(&ask(&w, &header(), &good).await);
    // §2.5: the digest is echoed unchanged into the voucher.
    assert_eq!(
        voucher["digest"],
        json!({ "alg": "SHA256", "value": value })
    );
}

#[tokio::test]
async fn digest_null_is_an_absent_digest() {
    let w = world().await;
    let null = edit(claims(), |c| {
        c.insert("digest".into(), Value::Null);
    });
    let voucher = assert_issued(&ask(&w, &header(), &null).await);
    assert!(!voucher.contains_key("digest"), "{voucher:?}");
    // Another non-object is still refused.
    let text = edit(claims(), |c| {
        c.insert("digest".into(), json!("abc"));
    });
    assert_refused(
        &ask(&w, &header(), &text).await,
        "clientAssertionInvalidClaims",
    );
}

#[tokio::test]
async fn digest_value_is_64_characters() {
    let w = world().await;
    let bad = edit(claims(), |c| {
        c.insert("digest".into(), json!({ "alg": "SHA256", "value": "abc" }));
    });
    assert_refused(&ask(&w, &header(), &bad).await, "invalidHashLength");
    // PDND does not check the hex case.
    let upper = "5DB26201B684761D2B970329AB8596773164BA1B43B1559980E20045941B8065";
    let good = edit(claims(), |c| {
        c.insert("digest".into(), json!({ "alg": "SHA256", "value": upper }));
    });
    assert_eq!(
        assert_issued(&ask(&w, &header(), &good).await)["digest"]["value"],
        upper
    );
}

#[tokio::test]
async fn strict_header_members() {
    let w = world().await;
    let bad = edit(header(), |h| {
        h.insert("x5t".into(), json!("abc"));
    });
    let a = ask(&w, &bad, &claims()).await;
    assert_refused(&a, "clientAssertionInvalidClaims");
    assert!(a.reason().contains("x5t"), "{}", a.reason());
    // typ is optional and any string (assumption U2).
    let no_typ = edit(header(), |h| {
        h.remove("typ");
    });
    assert_issued(&ask(&w, &no_typ, &claims()).await);
    let at_jwt = edit(header(), |h| {
        h.insert("typ".into(), json!("at+jwt"));
    });
    assert_issued(&ask(&w, &at_jwt, &claims()).await);
}

#[tokio::test]
async fn strict_claims() {
    let w = world().await;
    for extra in ["nbf", "client_id", "eserviceId", "scope"] {
        let bad = edit(claims(), |c| {
            c.insert(extra.into(), json!(NOW));
        });
        let a = ask(&w, &header(), &bad).await;
        assert_refused(&a, "clientAssertionInvalidClaims");
        assert!(a.reason().contains(extra), "{}", a.reason());
    }
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn non_strict_mode_accepts_extra_claims_but_checks_nbf() {
    let w = start(registry().client(client()).build().unwrap(), |c| {
        c.strict(false)
    })
    .await;
    let future = edit(claims(), |c| {
        c.insert("nbf".into(), json!(NOW + 60));
    });
    assert_refused(&ask(&w, &header(), &future).await, "notBeforeError");
    let past = edit(claims(), |c| {
        c.insert("nbf".into(), json!(NOW - 60));
        c.insert("client_id".into(), json!(CLIENT));
    });
    assert_issued(&ask(&w, &header(), &past).await);
}

// ---------------------------------------------------------------------------
// Step 4: the key lookup.

#[tokio::test]
async fn kid_must_be_uploaded_on_the_client() {
    let w = world().await;
    let h = edit(header(), |h| {
        h.insert("kid".into(), json!(stranger_key().kid().as_str()));
    });
    let a = post(&w, &form(&sign_with(&h, &claims(), &stranger_key()))).await;
    assert_refused(&a, "tokenGenerationStatesEntryNotFound");
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn client_must_be_associated_with_the_purpose() {
    let w = world().await;
    // PURPOSE2 exists, active, same consumer, but the client is not
    // associated with it.
    let bad = edit(claims(), |c| {
        c.insert("purposeId".into(), json!(PURPOSE2));
    });
    assert_refused(
        &ask(&w, &header(), &bad).await,
        "tokenGenerationStatesEntryNotFound",
    );
    let w = start(
        registry()
            .client(client().purpose(PURPOSE2))
            .build()
            .unwrap(),
        |c| c,
    )
    .await;
    let voucher = assert_issued(&ask(&w, &header(), &bad).await);
    assert_eq!(voucher["purposeId"], PURPOSE2);
    assert_eq!(voucher["eserviceId"], ESERVICE2);
}

#[tokio::test]
async fn client_must_exist() {
    let w = world().await;
    let bad = edit(claims(), |c| {
        c.insert("sub".into(), json!(OTHER_UUID));
        c.insert("iss".into(), json!(OTHER_UUID));
    });
    let a = post(
        &w,
        &with(form(&sign(&header(), &bad)), "client_id", OTHER_UUID),
    )
    .await;
    assert_refused(&a, "tokenGenerationStatesEntryNotFound");
    assert_issued(&ask(&w, &header(), &claims()).await);
}

// ---------------------------------------------------------------------------
// Step 5: signature and expiry.

#[tokio::test]
async fn signature_must_verify_with_the_uploaded_key() {
    let w = world().await;
    // The uploaded key's kid, signed with another key.
    let a = post(&w, &form(&sign_with(&header(), &claims(), &stranger_key()))).await;
    assert_refused(&a, "invalidSignature");
    // A tampered payload.
    let jws = sign(&header(), &claims());
    let mut parts: Vec<String> = jws.split('.').map(str::to_string).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(
        edit(claims(), |c| {
            c.insert("exp".into(), json!(NOW + 9999));
        })
        .to_string(),
    );
    assert_refused(&post(&w, &form(&parts.join("."))).await, "invalidSignature");
    assert_issued(&post(&w, &form(&jws)).await);
}

#[tokio::test]
async fn assertion_must_not_be_expired() {
    let w = world().await;
    let expiring = edit(claims(), |c| {
        c.insert("exp".into(), json!(NOW + 1));
    });
    let jws = sign(&header(), &expiring);
    assert_issued(&post(&w, &form(&jws)).await);
    // The same assertion one second later: exp == now is expired.
    w.clock.advance(1);
    assert_refused(&post(&w, &form(&jws)).await, "tokenExpiredError");
    // No maximum lifetime, no iat check: a 30-day assertion is accepted.
    let long = edit(claims(), |c| {
        c.insert("iat".into(), json!(NOW - 3600));
        c.insert("exp".into(), json!(NOW + 30 * 86_400));
    });
    assert_issued(&ask(&w, &header(), &long).await);
}

// ---------------------------------------------------------------------------
// Step 6: platform state.

#[tokio::test]
async fn purpose_id_is_required_for_consumer_clients() {
    let w = world().await;
    let bad = edit(claims(), |c| {
        c.remove("purposeId");
    });
    assert_refused(&ask(&w, &header(), &bad).await, "purposeIdNotProvided");
    assert_issued(&ask(&w, &header(), &claims()).await);
}

async fn with_states(purpose: State, agreement: State, descriptor: State) -> World {
    let r = Registry::builder()
        .tenant(Tenant::new(CONSUMER, "Comune di Prova"))
        .tenant(Tenant::new(PRODUCER, "Ministero di Prova"))
        .eservice(EService::new(
            ESERVICE,
            PRODUCER,
            Descriptor::new(DESCRIPTOR, AUDIENCE)
                .audience(AUDIENCE_B)
                .state(descriptor),
        ))
        .agreement(Agreement::new(ESERVICE, CONSUMER).state(agreement))
        .purpose(Purpose::new(PURPOSE, ESERVICE, CONSUMER).state(purpose))
        .client(client())
        .build()
        .unwrap();
    start(r, |c| c).await
}

#[tokio::test]
async fn purpose_must_be_active() {
    let w = with_states(State::Inactive, State::Active, State::Active).await;
    assert_refused(&ask(&w, &header(), &claims()).await, "inactivePurpose");
    let w = with_states(State::Active, State::Active, State::Active).await;
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn agreement_must_be_active() {
    let w = with_states(State::Active, State::Inactive, State::Active).await;
    assert_refused(&ask(&w, &header(), &claims()).await, "inactiveAgreement");
    let w = with_states(State::Active, State::Active, State::Active).await;
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn descriptor_must_be_active() {
    let w = with_states(State::Active, State::Active, State::Inactive).await;
    assert_refused(&ask(&w, &header(), &claims()).await, "inactiveEService");
    let w = with_states(State::Active, State::Active, State::Active).await;
    assert_issued(&ask(&w, &header(), &claims()).await);
}

#[tokio::test]
async fn async_only_eservices_refuse_the_plain_endpoint() {
    let r = Registry::builder()
        .tenant(Tenant::new(CONSUMER, "Comune di Prova"))
        .tenant(Tenant::new(PRODUCER, "Ministero di Prova"))
        .eservice(EService::new(
            ESERVICE,
            PRODUCER,
            Descriptor::new(DESCRIPTOR, AUDIENCE).async_exchange(true),
        ))
        .agreement(Agreement::new(ESERVICE, CONSUMER))
        .purpose(Purpose::new(PURPOSE, ESERVICE, CONSUMER))
        .client(client())
        .build()
        .unwrap();
    let w = start(r, |c| c).await;
    assert_refused(
        &ask(&w, &header(), &claims()).await,
        "asyncExchangeNotAllowed",
    );
    let w = world().await;
    assert_issued(&ask(&w, &header(), &claims()).await);
}

// ---------------------------------------------------------------------------
// Step 7: the per-tenant rate limiter.

#[tokio::test]
async fn rate_limit_per_tenant_with_headers() {
    let w = start(registry().client(client()).build().unwrap(), |c| {
        c.rate_limit(2, 400)
    })
    .await;
    // Invalid requests never reach the limiter.
    let bad = edit(claims(), |c| {
        c.remove("jti");
    });
    for _ in 0..5 {
        assert_refused(&ask(&w, &header(), &bad).await, "jtiNotFound");
    }
    let first = ask(&w, &header(), &claims()).await;
    assert_issued(&first);
    let h = |a: &Answer, n: &str| a.headers.get(n).unwrap().to_str().unwrap().to_string();
    assert_eq!(h(&first, "x-rate-limit-limit"), "2");
    assert_eq!(h(&first, "x-rate-limit-remaining"), "1");
    assert_eq!(h(&first, "x-rate-limit-interval"), "400");
    let second = ask(&w, &header(), &claims()).await;
    assert_eq!(h(&second, "x-rate-limit-remaining"), "0");
    let third = ask(&w, &header(), &claims()).await;
    assert_eq!(third.status, 429);
    let mut body = third.body.clone();
    assert!(is_uuid(&body["correlationId"]));
    body.as_object_mut().unwrap().remove("correlationId");
    let detail = format!("Requests limit exceeded for organization {CONSUMER}");
    assert_eq!(
        body,
        json!({
            "type": "about:blank", "title": "Too Many Requests", "status": 429,
            "detail": detail, "errors": [{ "code": "007-10004", "detail": detail }],
        })
    );
    assert_eq!(h(&third, "x-rate-limit-limit"), "2");
    assert_eq!(h(&third, "x-rate-limit-remaining"), "0");
    assert_eq!(h(&third, "x-rate-limit-interval"), "400");
    assert!(third.headers.get("retry-after").is_none());
    // After the interval the window opens again.
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_issued(&ask(&w, &header(), &claims()).await);
}

// ---------------------------------------------------------------------------
// Step 9: the voucher.

#[tokio::test]
async fn voucher_claims_and_signature() {
    let w = world().await;
    let a = ask(&w, &header(), &claims()).await;
    let payload = assert_issued(&a);
    let token = a.body["access_token"].as_str().unwrap();
    let d = decode_unverified(token).unwrap();
    assert_eq!(
        serde_json::Value::Object(d.header.clone()),
        json!({ "alg": "RS256", "use": "sig", "typ": "at+jwt", "kid": w.sandbox.voucher_kid() })
    );
    assert!(is_uuid(&json!(w.sandbox.voucher_kid())));
    let mut p = payload.clone();
    assert!(is_uuid(&p.remove("jti").unwrap()));
    assert_eq!(
        Value::Object(p),
        json!({
            "iss": SANDBOX_VOUCHER_ISSUER,
            "aud": format!("{AUDIENCE},{AUDIENCE_B}"),
            "client_id": CLIENT, "sub": CLIENT,
            "iat": NOW, "nbf": NOW, "exp": NOW + 600,
            "purposeId": PURPOSE,
            "producerId": PRODUCER, "consumerId": CONSUMER,
            "eserviceId": ESERVICE, "descriptorId": DESCRIPTOR,
        })
    );
    // Verified with the published JWKS.
    let jwks: Value = w
        .http
        .get(w.sandbox.endpoints().jwks_url())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    let jwk = &jwks["keys"][0];
    assert_eq!(jwk["kid"], w.sandbox.voucher_kid());
    assert_eq!(jwk["kty"], "RSA");
    let public = PublicKey::from_jwk(&jwk.to_string()).unwrap();
    assert!(public.verify_rs256(d.signing_input.as_bytes(), &d.signature));
    assert!(!client_key()
        .public_key()
        .verify_rs256(d.signing_input.as_bytes(), &d.signature));
}

#[tokio::test]
async fn client_keys_are_published_by_kid() {
    let w = world().await;
    let kid = client_key().kid().as_str().to_string();
    let url = format!("{}/keys/{kid}", w.sandbox.base_url());
    let resp = w.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let jwk: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(jwk["kid"], kid);
    let public = PublicKey::from_jwk(&jwk.to_string()).unwrap();
    assert_eq!(public.kid().as_str(), kid);
    let missing = format!("{}/keys/{}", w.sandbox.base_url(), stranger_key().kid());
    let resp = w.http.get(&missing).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let status = w
        .http
        .get(format!("{}/status", w.sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 200);
}

#[tokio::test]
async fn seeded_ids_repeat() {
    let registry = registry().client(client()).build().unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let w = start(registry.clone(), |c| c.seed(99)).await;
        let a = ask(
            &w,
            &header(),
            &edit(claims(), |c| {
                c.remove("jti");
            }),
        )
        .await;
        let b = ask(&w, &header(), &claims()).await;
        let jti = assert_issued(&b)["jti"].clone();
        seen.push((
            w.sandbox.voucher_kid().to_string(),
            a.body["correlationId"].clone(),
            jti,
        ));
        w.sandbox.shutdown().await;
    }
    assert_eq!(seen[0], seen[1]);
}

// ---------------------------------------------------------------------------
// The real client against the sandbox.

fn voucher_key() -> VoucherKey {
    VoucherKey::new(
        Environment::Sandbox,
        ClientId::parse(CLIENT).unwrap(),
        client_key().kid().clone(),
        PurposeId::parse(PURPOSE).unwrap(),
    )
}

fn fetcher(w: &World) -> HttpTokenFetcher {
    HttpTokenFetcher::new(w.sandbox.endpoints().clone(), client_key(), w.clock.clone())
        .unwrap()
        .retry_policy(Backoff {
            seed: Some(1),
            ..Backoff::token_request()
        })
}

#[tokio::test]
async fn real_client_gets_a_verifiable_voucher() {
    let w = world().await;
    let fetched = fetcher(&w).request_once(&voucher_key()).await.unwrap();
    let v = &fetched.voucher;
    assert_eq!(v.expires_in(), 600);
    assert_eq!(v.lifetime(), 600);
    assert_eq!(v.purpose_id(), Some(PURPOSE));
    assert_eq!(
        v.audience(),
        Some(format!("{AUDIENCE},{AUDIENCE_B}").as_str())
    );
    assert_eq!(fetched.rate.limit, Some(10));
    let jwks: Value = w
        .http
        .get(w.sandbox.endpoints().jwks_url())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    let public = PublicKey::from_jwk(&jwks["keys"][0].to_string()).unwrap();
    let d = decode_unverified(v.access_token().as_str()).unwrap();
    assert!(public.verify_rs256(d.signing_input.as_bytes(), &d.signature));
    assert_eq!(d.payload["iss"], w.sandbox.endpoints().voucher_issuer());
    assert_eq!(w.sandbox.vouchers_issued(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_cache_gets_make_one_token_request() {
    let w = world().await;
    let cache = Arc::new(VoucherCache::new(fetcher(&w), w.clock.clone()));
    let key = voucher_key();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let cache = Arc::clone(&cache);
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let mut tokens = Vec::new();
            for _ in 0..100 {
                let v = cache.get(&key).await.unwrap();
                tokens.push(v.voucher().access_token().as_str().to_string());
            }
            tokens
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    assert_eq!(all.len(), 1000);
    assert!(all.iter().all(|t| t == &all[0]));
    assert_eq!(w.sandbox.token_requests(), 1);
    assert_eq!(w.sandbox.vouchers_issued(), 1);
}

#[tokio::test]
async fn throttled_token_request_is_retried_after_the_wait() {
    let w = start(registry().client(client()).build().unwrap(), |c| {
        c.rate_limit(10, 300)
    })
    .await;
    w.sandbox.inject(Fault::RateLimited);
    let started = Instant::now();
    let fetched = fetcher(&w).fetch(&voucher_key()).await.unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(w.sandbox.token_requests(), 2);
    assert_eq!(fetched.voucher().purpose_id(), Some(PURPOSE));
    assert_eq!(w.sandbox.vouchers_issued(), 1);
}

/// A clock at the world's instant that records the waits it is asked for
/// and returns at once.
struct RecordingClock {
    at: Arc<ManualClock>,
    waits: std::sync::Mutex<Vec<Duration>>,
}

impl anist_client::clock::Clock for RecordingClock {
    fn now(&self) -> i64 {
        self.at.now()
    }

    fn sleep(&self, d: Duration) -> anist_client::clock::Sleep {
        self.waits.lock().unwrap().push(d);
        Box::pin(std::future::ready(()))
    }
}

#[tokio::test]
async fn retries_wait_through_the_injected_clock() {
    let w = start(registry().client(client()).build().unwrap(), |c| {
        c.rate_limit(10, 4_000)
    })
    .await;
    let clock = Arc::new(RecordingClock {
        at: w.clock.clone(),
        waits: std::sync::Mutex::new(Vec::new()),
    });
    let f = HttpTokenFetcher::new(w.sandbox.endpoints().clone(), client_key(), clock.clone())
        .unwrap()
        .retry_policy(Backoff {
            seed: Some(1),
            ..Backoff::token_request()
        });
    w.sandbox.inject(Fault::RateLimited);
    let started = Instant::now();
    f.fetch(&voucher_key()).await.unwrap();
    let elapsed = started.elapsed();
    let waits = clock.waits.lock().unwrap().clone();
    assert_eq!(w.sandbox.token_requests(), 2);
    // The 4 s the sandbox asked for were asked of the clock, not slept.
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(waits[0] >= Duration::from_secs(4), "{waits:?}");
    assert!(waits[0] <= Duration::from_secs(5), "{waits:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn throttling_beyond_the_attempts_is_reported_with_the_wait() {
    let w = start(registry().client(client()).build().unwrap(), |c| {
        c.rate_limit(10, 50)
    })
    .await;
    for _ in 0..3 {
        w.sandbox.inject(Fault::RateLimited);
    }
    let err = fetcher(&w).fetch(&voucher_key()).await.unwrap_err();
    assert_eq!(err.code(), "voucher_throttled");
    assert_eq!(err.retry_after(), Some(Duration::from_millis(50)));
    assert!(err.correlation_id().is_some());
    assert_eq!(w.sandbox.token_requests(), 3);
}

#[tokio::test]
async fn a_call_s_budget_bounds_the_token_request_s_retries() {
    let w = world().await;
    for _ in 0..5 {
        w.sandbox.inject(Fault::InternalError);
    }
    let f = fetcher(&w).retry_policy(Backoff {
        base: Duration::from_millis(5),
        seed: Some(3),
        ..Backoff::token_request()
    });
    // Under a call whose budget is two attempts in all, the fetcher's own
    // three are not all made.
    let err = anist_client::transport::budget::scoped(2, f.fetch(&voucher_key()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "voucher_server_error");
    assert_eq!(w.sandbox.token_requests(), 2);
    // On its own, the fetcher keeps its three.
    let err = f.fetch(&voucher_key()).await.unwrap_err();
    assert_eq!(err.code(), "voucher_server_error");
    assert_eq!(w.sandbox.token_requests(), 5);
}

#[tokio::test]
async fn server_errors_are_retried_refusals_are_not() {
    let w = world().await;
    w.sandbox.inject(Fault::InternalError);
    let f = fetcher(&w).retry_policy(Backoff {
        base: Duration::from_millis(20),
        seed: Some(3),
        ..Backoff::token_request()
    });
    f.fetch(&voucher_key()).await.unwrap();
    assert_eq!(w.sandbox.token_requests(), 2);

    // A purpose the client is not associated with: refused once, never retried.
    let refused_key = VoucherKey::new(
        Environment::Sandbox,
        ClientId::parse(CLIENT).unwrap(),
        client_key().kid().clone(),
        PurposeId::parse(PURPOSE2).unwrap(),
    );
    let err = f.fetch(&refused_key).await.unwrap_err();
    assert!(matches!(err, FetchError::Refused { .. }), "{err:?}");
    assert_eq!(err.code(), "voucher_refused");
    assert!(err.correlation_id().is_some());
    assert_eq!(w.sandbox.token_requests(), 3);
}

#[tokio::test]
async fn expired_clock_gives_refused_assertions() {
    // The client's clock is an hour behind the sandbox's: its assertions
    // are already expired when they arrive.
    let w = world().await;
    let late = Arc::new(ManualClock::new(NOW - 3600));
    let f = HttpTokenFetcher::new(w.sandbox.endpoints().clone(), client_key(), late).unwrap();
    let err = f.fetch(&voucher_key()).await.unwrap_err();
    assert_eq!(err.code(), "voucher_refused");
    assert_eq!(w.sandbox.token_requests(), 1);
}

#[tokio::test]
async fn unreachable_endpoint_is_not_sent() {
    // Bind a port, then close it: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let endpoints =
        anist_client::env::PdndEndpoints::sandbox_at(&format!("http://127.0.0.1:{port}"));
    let f = HttpTokenFetcher::new(endpoints, client_key(), Arc::new(ManualClock::new(NOW)))
        .unwrap()
        .retry_policy(Backoff::never());
    let err = f.fetch(&voucher_key()).await.unwrap_err();
    assert_eq!(err.code(), "voucher_network");
    assert_eq!(err.sent(), anist_client::voucher::http::Sent::No);
    // Plain http to a non-loopback host is refused before anything is sent.
    let remote = Environment::Collaudo
        .endpoints()
        .with_token_url("http://auth.uat.interop.pagopa.it/token.oauth2");
    let err =
        HttpTokenFetcher::new(remote, client_key(), Arc::new(ManualClock::new(NOW))).unwrap_err();
    assert_eq!(err.code(), "voucher_not_sent");
}

#[tokio::test]
async fn slow_sandbox_times_out_maybe_sent() {
    let w = world().await;
    w.sandbox.inject(Fault::Delay(Duration::from_millis(800)));
    let opts =
        anist_client::voucher::http::HttpOptions::default().timeout(Duration::from_millis(200));
    let f = HttpTokenFetcher::with_options(
        w.sandbox.endpoints().clone(),
        client_key(),
        w.clock.clone(),
        &opts,
    )
    .unwrap()
    .retry_policy(Backoff::never());
    let err = f.fetch(&voucher_key()).await.unwrap_err();
    assert_eq!(err.code(), "voucher_timeout");
    assert_eq!(err.sent(), anist_client::voucher::http::Sent::Maybe);
}
