//! The client assertion: exact members, signature, digest, refusals.

// Test helpers may unwrap: a panic there is a failing test.
#![allow(clippy::unwrap_used)]

use anist_client::clock::ManualClock;
use anist_client::env::{Environment, PdndEndpoints};
use anist_client::ids::{ClientId, PurposeId};
use anist_client::jws::decode_unverified;
use anist_client::keys::{PrivateKey, RsaBits};
use anist_client::voucher::assertion::{AssertionBuilder, AssertionDigest, AssertionError};
use anist_core::ErrorCode;
use std::sync::OnceLock;

const CLIENT: &str = "c9b73ff4-e203-4580-911b-689514d350c2";
const PURPOSE: &str = "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e";
const NOW: i64 = 1_764_000_000;

fn key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(RsaBits::Rsa2048).unwrap())
}

fn builder(env: &PdndEndpoints) -> AssertionBuilder {
    AssertionBuilder::new(
        ClientId::parse(CLIENT).unwrap(),
        PurposeId::parse(PURPOSE).unwrap(),
        env,
    )
}

/// Member names, sorted.
fn names(m: &serde_json::Map<String, serde_json::Value>) -> Vec<&str> {
    let mut v: Vec<&str> = m.keys().map(String::as_str).collect();
    v.sort_unstable();
    v
}

#[test]
fn exact_header_and_payload() {
    let a = builder(&Environment::Collaudo.endpoints())
        .build(key(), &ManualClock::new(NOW))
        .unwrap();
    let d = decode_unverified(a.jws().as_str()).unwrap();
    assert_eq!(names(&d.header), ["alg", "kid", "typ"]);
    assert_eq!(d.header["alg"], "RS256");
    assert_eq!(d.header["typ"], "JWT");
    assert_eq!(d.header["kid"], key().kid().as_str());

    assert_eq!(
        names(&d.payload),
        ["aud", "exp", "iat", "iss", "jti", "purposeId", "sub"]
    );
    assert_eq!(d.payload["iss"], CLIENT);
    assert_eq!(d.payload["sub"], CLIENT);
    assert_eq!(
        d.payload["aud"],
        "auth.uat.interop.pagopa.it/client-assertion"
    );
    assert_eq!(d.payload["iat"], NOW);
    assert_eq!(d.payload["exp"], NOW + 300);
    assert!(d.payload["iat"].is_i64());
    assert_eq!(d.payload["purposeId"], PURPOSE);
    let jti = d.payload["jti"].as_str().unwrap();
    assert_eq!(jti, a.jti());
    assert_eq!(jti.len(), 36);
    assert_eq!(&jti[14..15], "4");

    assert!(key()
        .public_key()
        .verify_rs256(d.signing_input.as_bytes(), &d.signature));
    // The signing input is the raw first two parts, not a re-serialization.
    assert!(a.jws().as_str().starts_with(&d.signing_input));
}

#[test]
fn the_serialized_json_is_compact_and_in_order() {
    let a = builder(&Environment::Produzione.endpoints())
        .build(key(), &ManualClock::new(NOW))
        .unwrap();
    let parts: Vec<&str> = a.jws().as_str().split('.').collect();
    use base64::Engine as _;
    let dec = |s: &str| {
        String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        dec(parts[0]),
        format!(r#"{{"alg":"RS256","kid":"{}","typ":"JWT"}}"#, key().kid())
    );
    assert_eq!(
        dec(parts[1]),
        format!(
            r#"{{"iss":"{CLIENT}","sub":"{CLIENT}","aud":"auth.interop.pagopa.it/client-assertion","jti":"{}","iat":{NOW},"exp":{},"purposeId":"{PURPOSE}"}}"#,
            a.jti(),
            NOW + 300
        )
    );
}

#[test]
fn digest_claim_shape() {
    let te = "eyJhbGciOiJSUzI1NiJ9.eyJ1c2VySUQiOiJ4In0.c2ln";
    let digest = AssertionDigest::of(te.as_bytes());
    let a = builder(&Environment::Collaudo.endpoints())
        .digest(digest.clone())
        .build(key(), &ManualClock::new(NOW))
        .unwrap();
    let d = decode_unverified(a.jws().as_str()).unwrap();
    assert_eq!(
        names(&d.payload),
        [
            "aud",
            "digest",
            "exp",
            "iat",
            "iss",
            "jti",
            "purposeId",
            "sub"
        ]
    );
    let obj = d.payload["digest"].as_object().unwrap();
    assert_eq!(obj.len(), 2);
    assert_eq!(obj["alg"], "SHA256");
    let value = obj["value"].as_str().unwrap();
    assert_eq!(value.len(), 64);
    assert_eq!(value, value.to_ascii_lowercase());
    assert_eq!(value, digest.as_hex());
}

#[test]
fn digest_from_hex() {
    let upper = "5DB26201B684761D2B970329AB8596773164BA1B43B1559980E20045941B8065";
    let d = AssertionDigest::from_hex(upper).unwrap();
    assert_eq!(d.as_hex(), upper.to_ascii_lowercase());
    for bad in ["", "abc", &upper[1..], &format!("{}g", &upper[1..])] {
        assert_eq!(
            AssertionDigest::from_hex(bad).unwrap_err().code(),
            "assertion_digest"
        );
    }
    // FIPS 180-2 "abc".
    assert_eq!(
        AssertionDigest::of(b"abc").as_hex(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn fresh_jti_every_time() {
    let b = builder(&Environment::Collaudo.endpoints());
    let clock = ManualClock::new(NOW);
    let a1 = b.build(key(), &clock).unwrap();
    let a2 = b.build(key(), &clock).unwrap();
    assert_ne!(a1.jti(), a2.jti());
    assert_ne!(a1.jws(), a2.jws());
}

#[test]
fn lifetime_bounds() {
    let clock = ManualClock::new(NOW);
    let env = Environment::Collaudo.endpoints();
    assert_eq!(
        builder(&env)
            .lifetime(600)
            .build(key(), &clock)
            .unwrap()
            .exp(),
        NOW + 600
    );
    assert_eq!(
        builder(&env)
            .lifetime(3600)
            .build(key(), &clock)
            .unwrap()
            .exp(),
        NOW + 3600
    );
    for bad in [0, -5, 3601, 30 * 86400] {
        let e = builder(&env)
            .lifetime(bad)
            .build(key(), &clock)
            .unwrap_err();
        assert_eq!(e, AssertionError::Lifetime { seconds: bad });
        assert_eq!(e.code(), "assertion_lifetime");
    }
}

#[test]
fn audience_with_scheme_is_refused() {
    let clock = ManualClock::new(NOW);
    for bad in [
        "https://auth.uat.interop.pagopa.it/client-assertion",
        "",
        "a b",
    ] {
        let env = Environment::Collaudo
            .endpoints()
            .with_assertion_audience(bad);
        let e = builder(&env).build(key(), &clock).unwrap_err();
        assert_eq!(e.code(), "assertion_audience", "{bad:?}");
    }
}

#[test]
fn sandbox_audience() {
    let a = builder(&PdndEndpoints::sandbox_at("http://127.0.0.1:9"))
        .build(key(), &ManualClock::new(NOW))
        .unwrap();
    let d = decode_unverified(a.jws().as_str()).unwrap();
    assert_eq!(d.payload["aud"], "sandbox.anist.invalid/client-assertion");
}

#[test]
fn debug_is_redacted() {
    let a = builder(&Environment::Collaudo.endpoints())
        .build(key(), &ManualClock::new(NOW))
        .unwrap();
    let dbg = format!("{a:?} {:?}", a.jws());
    assert!(!dbg.contains(a.jws().as_str().split('.').nth(2).unwrap()));
    assert!(!dbg.contains(a.jws().as_str().split('.').nth(1).unwrap()));
    assert!(dbg.contains(a.jti()));
}
