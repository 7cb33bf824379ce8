//! ModI headers: Digest, Agid-JWT-Signature, Agid-JWT-TrackingEvidence.

// Test helpers may unwrap: a panic there is a failing test.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, OnceLock};

use anist_client::clock::ManualClock;
use anist_client::env::Environment;
use anist_client::ids::{ClientId, PurposeId};
use anist_client::jws::decode_unverified;
use anist_client::keys::{PrivateKey, RsaBits};
use anist_client::modi::{digest_header, AuditContext, IntegrityRequest, ModiSigner};
use anist_client::voucher::assertion::AssertionBuilder;
use anist_core::ErrorCode;
use base64::Engine as _;

const CLIENT: &str = "c9b73ff4-e203-4580-911b-689514d350c2";
const PURPOSE: &str = "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e";
const AUD: &str = "https://modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR/C030-servizioAccertamentoIdUnicoNazionale/v1";
const NOW: i64 = 1_764_000_000;

fn key() -> Arc<PrivateKey> {
    static KEY: OnceLock<Arc<PrivateKey>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(PrivateKey::generate(RsaBits::Rsa2048).unwrap()))
        .clone()
}

fn signer() -> ModiSigner {
    ModiSigner::new(ClientId::parse(CLIENT).unwrap(), key())
}

fn sorted(m: &serde_json::Map<String, serde_json::Value>) -> Vec<&str> {
    let mut v: Vec<&str> = m.keys().map(String::as_str).collect();
    v.sort_unstable();
    v
}

fn raw_payload(jws: &str) -> String {
    let p = jws.split('.').nth(1).unwrap();
    String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn digest_over_exact_bytes() {
    // sha256("") and sha256("abc") in standard base64 with padding.
    assert_eq!(
        digest_header(b""),
        "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    );
    assert_eq!(
        digest_header(b"abc"),
        "SHA-256=ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    );
    // Re-serialising JSON changes the digest: it must be over the sent bytes.
    assert_ne!(digest_header(br#"{"a":1}"#), digest_header(br#"{"a": 1}"#));
}

#[test]
fn signature_claims_and_signed_headers() {
    let body = br#"{"idOperazioneClient":"1764000000123"}"#;
    let h = signer()
        .integrity(
            &IntegrityRequest::new(AUD)
                .body(body)
                .content_type("application/json")
                .content_encoding("UTF-8"),
            &ManualClock::new(NOW),
        )
        .unwrap();
    let digest = digest_header(body);
    assert_eq!(h.digest(), Some(digest.as_str()));
    let names: Vec<&str> = h.headers().iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["Digest", "Agid-JWT-Signature"]);

    let d = decode_unverified(h.signature().as_str()).unwrap();
    assert_eq!(sorted(&d.header), ["alg", "kid", "typ"]);
    assert_eq!(d.header["alg"], "RS256");
    assert_eq!(d.header["typ"], "JWT");
    assert_eq!(d.header["kid"], key().kid().as_str());
    assert_eq!(
        sorted(&d.payload),
        [
            "aud",
            "exp",
            "iat",
            "iss",
            "jti",
            "nbf",
            "signed_headers",
            "sub"
        ]
    );
    assert_eq!(d.payload["iss"], CLIENT);
    assert_eq!(d.payload["sub"], CLIENT);
    assert_eq!(d.payload["aud"], AUD);
    assert_eq!(d.payload["iat"], NOW);
    assert_eq!(d.payload["nbf"], NOW);
    assert_eq!(d.payload["exp"], NOW + 300);
    assert_eq!(d.payload["jti"], h.jti());
    assert_eq!(
        d.payload["signed_headers"],
        serde_json::json!([
            { "digest": digest },
            { "content-type": "application/json" },
            { "content-encoding": "UTF-8" }
        ])
    );
    // Order on the wire too.
    let raw = raw_payload(h.signature().as_str());
    let i = raw.find("\"digest\"").unwrap();
    let j = raw.find("\"content-type\"").unwrap();
    let k = raw.find("\"content-encoding\"").unwrap();
    assert!(i < j && j < k);
    assert!(key()
        .public_key()
        .verify_rs256(d.signing_input.as_bytes(), &d.signature));
}

#[test]
fn only_present_headers_are_signed() {
    let clock = ManualClock::new(NOW);
    let h = signer()
        .integrity(
            &IntegrityRequest::new(AUD)
                .body(b"{}")
                .content_type("application/json"),
            &clock,
        )
        .unwrap();
    let d = decode_unverified(h.signature().as_str()).unwrap();
    assert_eq!(d.payload["signed_headers"].as_array().unwrap().len(), 2);

    // GET without body: no Digest, no signed_headers.
    let h = signer()
        .integrity(&IntegrityRequest::new(AUD), &clock)
        .unwrap();
    assert_eq!(h.digest(), None);
    assert_eq!(h.headers().len(), 1);
    let d = decode_unverified(h.signature().as_str()).unwrap();
    assert!(d.payload.get("signed_headers").is_none());
}

#[test]
fn fresh_jti_and_times_per_request() {
    let clock = ManualClock::new(NOW);
    let s = signer().with_signature_lifetime(60).unwrap();
    let r = IntegrityRequest::new(AUD).body(b"{}");
    let a = s.integrity(&r, &clock).unwrap();
    clock.advance(5);
    let b = s.integrity(&r, &clock).unwrap();
    assert_ne!(a.jti(), b.jti());
    let db = decode_unverified(b.signature().as_str()).unwrap();
    assert_eq!(db.payload["iat"], NOW + 5);
    assert_eq!(db.payload["exp"], NOW + 65);
}

#[test]
fn optional_purpose_claim() {
    let purpose = PurposeId::parse(PURPOSE).unwrap();
    let h = signer()
        .integrity(
            &IntegrityRequest::new(AUD).purpose_id(&purpose),
            &ManualClock::new(NOW),
        )
        .unwrap();
    let d = decode_unverified(h.signature().as_str()).unwrap();
    assert_eq!(d.payload["purposeId"], PURPOSE);
}

#[test]
fn integrity_refusals() {
    let clock = ManualClock::new(NOW);
    for bad in ["", "a b", "x\ny"] {
        let e = signer()
            .integrity(&IntegrityRequest::new(bad), &clock)
            .unwrap_err();
        assert_eq!(e.code(), "modi_audience");
    }
    let e = signer()
        .integrity(
            &IntegrityRequest::new(AUD).content_type("application/json\r\nX: y"),
            &clock,
        )
        .unwrap_err();
    assert_eq!(e.code(), "modi_header_value");
    assert_eq!(
        signer().with_signature_lifetime(0).unwrap_err().code(),
        "modi_lifetime"
    );
    assert_eq!(
        signer()
            .with_tracking_evidence_lifetime(3601)
            .unwrap_err()
            .code(),
        "modi_lifetime"
    );
}

#[test]
fn tracking_evidence_claims() {
    let purpose = PurposeId::parse(PURPOSE).unwrap();
    let ctx = AuditContext::new("RSSMRA80A01H501U", "c_h501")
        .unwrap()
        .with_loa("LoA3");
    let te = signer()
        .tracking_evidence(&ctx, &purpose, AUD, &ManualClock::new(NOW))
        .unwrap();
    let d = decode_unverified(te.jws().as_str()).unwrap();
    assert_eq!(sorted(&d.header), ["alg", "kid", "typ"]);
    assert_eq!(d.header["kid"], key().kid().as_str());
    assert_eq!(
        sorted(&d.payload),
        [
            "LoA",
            "aud",
            "dnonce",
            "exp",
            "iat",
            "iss",
            "jti",
            "nbf",
            "purposeId",
            "userID",
            "userLocation"
        ]
    );
    assert_eq!(d.payload["iss"], CLIENT);
    assert_eq!(d.payload["aud"], AUD);
    assert_eq!(d.payload["purposeId"], PURPOSE);
    assert_eq!(d.payload["userID"], "RSSMRA80A01H501U");
    assert_eq!(d.payload["userLocation"], "c_h501");
    assert_eq!(d.payload["LoA"], "LoA3");
    assert_eq!(d.payload["iat"], NOW);
    assert_eq!(d.payload["nbf"], NOW);
    assert_eq!(d.payload["exp"], NOW + 600);
    assert_eq!(d.payload["jti"], te.jti());
    let dnonce = d.payload["dnonce"].as_u64().unwrap();
    assert_eq!(dnonce.to_string().len(), 13);
    assert!(key()
        .public_key()
        .verify_rs256(d.signing_input.as_bytes(), &d.signature));

    // Its lower-case hex SHA-256 over the ASCII compact form is the digest.
    use anist_client::voucher::assertion::AssertionDigest;
    assert_eq!(
        te.digest(),
        &AssertionDigest::of(te.jws().as_str().as_bytes())
    );
    assert_eq!(
        te.digest().as_hex(),
        te.digest().as_hex().to_ascii_lowercase()
    );

    // ...and goes into the client assertion.
    let a = AssertionBuilder::new(
        ClientId::parse(CLIENT).unwrap(),
        purpose,
        &Environment::Collaudo.endpoints(),
    )
    .digest(te.digest().clone())
    .build(&key(), &ManualClock::new(NOW))
    .unwrap();
    let ad = decode_unverified(a.jws().as_str()).unwrap();
    assert_eq!(ad.payload["digest"]["value"], te.digest().as_hex());
    assert_eq!(ad.payload["digest"]["alg"], "SHA256");
}

#[test]
fn tracking_evidence_without_loa_and_refusals() {
    let purpose = PurposeId::parse(PURPOSE).unwrap();
    let ctx = AuditContext::new("op", "office").unwrap();
    let te = signer()
        .tracking_evidence(&ctx, &purpose, AUD, &ManualClock::new(NOW))
        .unwrap();
    let d = decode_unverified(te.jws().as_str()).unwrap();
    assert!(d.payload.get("LoA").is_none());
    assert_eq!(
        AuditContext::new(" ", "x").unwrap_err().code(),
        "modi_audit_field"
    );
    assert_eq!(
        AuditContext::new("x", "").unwrap_err().code(),
        "modi_audit_field"
    );
    assert_eq!(
        signer()
            .tracking_evidence(&ctx, &purpose, "", &ManualClock::new(NOW))
            .unwrap_err()
            .code(),
        "modi_audience"
    );
}

#[test]
fn separate_modi_key() {
    let other = Arc::new(PrivateKey::generate(RsaBits::Rsa2048).unwrap());
    let s = ModiSigner::new(ClientId::parse(CLIENT).unwrap(), other.clone());
    let h = s
        .integrity(&IntegrityRequest::new(AUD), &ManualClock::new(NOW))
        .unwrap();
    let d = decode_unverified(h.signature().as_str()).unwrap();
    assert_eq!(d.header["kid"], other.kid().as_str());
    assert_ne!(other.kid(), key().kid());
}

#[test]
fn debug_is_redacted() {
    let purpose = PurposeId::parse(PURPOSE).unwrap();
    let ctx = AuditContext::new("RSSMRA80A01H501U", "c_h501").unwrap();
    let clock = ManualClock::new(NOW);
    let te = signer()
        .tracking_evidence(&ctx, &purpose, AUD, &clock)
        .unwrap();
    let h = signer()
        .integrity(&IntegrityRequest::new(AUD).body(b"{}"), &clock)
        .unwrap();
    let dbg = format!("{ctx:?} {te:?} {h:?} {:?}", signer());
    assert!(!dbg.contains("RSSMRA80A01H501U"), "{dbg}");
    assert!(!dbg.contains(te.jws().as_str().split('.').nth(1).unwrap()));
    assert!(!dbg.contains(h.signature().as_str().split('.').nth(2).unwrap()));
}
