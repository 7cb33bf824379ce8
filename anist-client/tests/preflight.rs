//! Pre-flight diagnosis: for every rule, one assertion that breaks it and one
//! that complies (the builder's own output breaks none).

// Test helpers may unwrap: a panic there is a failing test.
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use anist_client::clock::ManualClock;
use anist_client::env::Environment;
use anist_client::ids::{ClientId, PurposeId};
use anist_client::keys::{PrivateKey, PublicKey, RsaBits};
use anist_client::preflight::{diagnose, Expectations, Report, Rule, Severity};
use anist_client::voucher::assertion::{AssertionBuilder, AssertionDigest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

const CLIENT: &str = "c9b73ff4-e203-4580-911b-689514d350c2";
const PURPOSE: &str = "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e";
const JTI: &str = "0b6f0a1e-6f7a-4e1c-9e0e-2f4d8a1c7b55";
const NOW: i64 = 1_764_000_000;
const UAT_AUD: &str = "auth.uat.interop.pagopa.it/client-assertion";
const TE: &str = "eyJhbGciOiJSUzI1NiJ9.eyJ1c2VySUQiOiJvcCJ9.c2ln";

fn key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(RsaBits::Rsa2048).unwrap())
}

fn clock() -> ManualClock {
    ManualClock::new(NOW)
}

fn expect() -> Expectations {
    Expectations::new(Environment::Collaudo.endpoints())
        .client_id(ClientId::parse(CLIENT).unwrap())
        .purpose_id(PurposeId::parse(PURPOSE).unwrap())
}

fn good_header() -> Value {
    json!({ "alg": "RS256", "kid": key().kid().as_str(), "typ": "JWT" })
}

fn good_payload() -> Value {
    json!({
        "iss": CLIENT, "sub": CLIENT, "aud": UAT_AUD, "jti": JTI,
        "iat": NOW, "exp": NOW + 300, "purposeId": PURPOSE,
    })
}

/// An unsigned (fake signature) compact JWS with these parts.
fn forge(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode([7u8; 256])
    )
}

fn run(header: &Value, payload: &Value) -> Report {
    diagnose(&forge(header, payload), &expect(), &clock())
}

/// Breaking: `rule` is reported. Complying: the base case reports nothing.
fn assert_rule(rule: Rule, header: Value, payload: Value) {
    let report = run(&header, &payload);
    assert!(
        report.has(rule),
        "{rule} not reported; findings: {:?}",
        report.findings()
    );
    for f in report.findings() {
        assert!(!f.detail().is_empty());
        assert!(!f.fix().is_empty());
        assert!(f.to_string().contains(f.rule().code()));
    }
    if rule.severity() == Severity::Refused {
        assert!(
            !report.is_acceptable(),
            "{rule} must make the report unacceptable"
        );
    }
}

fn with(mut v: Value, k: &str, x: Value) -> Value {
    v[k] = x;
    v
}

fn without(mut v: Value, k: &str) -> Value {
    v.as_object_mut().unwrap().remove(k);
    v
}

#[test]
fn compliant_forged_assertion_has_no_findings() {
    let r = run(&good_header(), &good_payload());
    assert!(r.findings().is_empty(), "{:?}", r.findings());
    assert!(r.is_acceptable());
}

#[test]
fn builder_output_has_no_findings_even_with_key_and_digest() {
    let digest = AssertionDigest::of(TE.as_bytes());
    let a = AssertionBuilder::new(
        ClientId::parse(CLIENT).unwrap(),
        PurposeId::parse(PURPOSE).unwrap(),
        &Environment::Collaudo.endpoints(),
    )
    .digest(digest)
    .build(key(), &clock())
    .unwrap();
    let e = expect()
        .public_key(key().public_key().clone())
        .tracking_evidence(TE);
    let r = diagnose(a.jws().as_str(), &e, &clock());
    assert!(r.findings().is_empty(), "{:?}", r.findings());
}

#[test]
fn jws_format() {
    for bad in [
        "",
        "a.b",
        "a.b.c",
        "e30.e30",
        "W10.e30.",
        "e30.e30.e30.e30",
        "\"eyJ.eyJ.x\"",
    ] {
        let r = diagnose(bad, &expect(), &clock());
        assert_eq!(r.findings().len(), 1, "{bad:?}");
        assert_eq!(r.findings()[0].rule(), Rule::JwsFormat);
        assert!(!r.is_acceptable());
    }
}

#[test]
fn header_alg() {
    assert_rule(
        Rule::HeaderAlg,
        with(good_header(), "alg", json!("ES256")),
        good_payload(),
    );
    assert_rule(
        Rule::HeaderAlg,
        with(good_header(), "alg", json!("none")),
        good_payload(),
    );
    assert_rule(
        Rule::HeaderAlg,
        without(good_header(), "alg"),
        good_payload(),
    );
    assert!(!run(&good_header(), &good_payload()).has(Rule::HeaderAlg));
}

#[test]
fn header_kid_missing() {
    assert_rule(
        Rule::HeaderKidMissing,
        without(good_header(), "kid"),
        good_payload(),
    );
    assert!(!run(&good_header(), &good_payload()).has(Rule::HeaderKidMissing));
}

#[test]
fn header_kid_format() {
    // The 48-character example of a well-known README.
    let h = with(
        good_header(),
        "kid",
        json!("ZmYxZGE2YjQtMzY2Yy00NWI5LThjNGItMDJmYmQyZGIyZmZh"),
    );
    assert_rule(Rule::HeaderKidFormat, h, good_payload());
    let h = with(
        good_header(),
        "kid",
        json!("9432c16b-7aae-49df-b9c4-ea61b556652b"),
    );
    assert_rule(Rule::HeaderKidFormat, h, good_payload());
    assert_rule(
        Rule::HeaderKidFormat,
        with(good_header(), "kid", json!(42)),
        good_payload(),
    );
    assert!(!run(&good_header(), &good_payload()).has(Rule::HeaderKidFormat));
}

#[test]
fn header_kid_mismatch() {
    let other = PrivateKey::generate(RsaBits::Rsa2048).unwrap();
    let e = expect().public_key(other.public_key().clone());
    let r = diagnose(&forge(&good_header(), &good_payload()), &e, &clock());
    assert!(r.has(Rule::HeaderKidMismatch));
    let e = expect().public_key(key().public_key().clone());
    let r = diagnose(&forge(&good_header(), &good_payload()), &e, &clock());
    assert!(!r.has(Rule::HeaderKidMismatch));
}

#[test]
fn header_typ() {
    assert_rule(
        Rule::HeaderTyp,
        without(good_header(), "typ"),
        good_payload(),
    );
    assert_rule(
        Rule::HeaderTyp,
        with(good_header(), "typ", json!("at+jwt")),
        good_payload(),
    );
    let r = run(&without(good_header(), "typ"), &good_payload());
    assert!(r.is_acceptable(), "typ is only a warning");
    assert!(!run(&good_header(), &good_payload()).has(Rule::HeaderTyp));
}

#[test]
fn header_extra() {
    assert_rule(
        Rule::HeaderExtra,
        with(good_header(), "x5c", json!(["MII"])),
        good_payload(),
    );
    let r = run(
        &with(good_header(), "jku", json!("https://x")),
        &good_payload(),
    );
    assert!(r.findings()[0].detail().contains("jku"));
    assert!(!run(&good_header(), &good_payload()).has(Rule::HeaderExtra));
}

#[test]
fn claim_missing() {
    for claim in ["iss", "sub", "aud", "jti", "iat", "exp"] {
        let r = run(&good_header(), &without(good_payload(), claim));
        assert!(r.has(Rule::ClaimMissing), "{claim}");
        assert!(r.findings().iter().any(|f| f.detail().starts_with(claim)));
        assert!(!r.is_acceptable());
    }
    assert!(!run(&good_header(), &good_payload()).has(Rule::ClaimMissing));
}

#[test]
fn claim_type() {
    for (claim, v) in [
        ("iat", json!("1764000000")),
        ("exp", json!(null)),
        ("iss", json!(1)),
        ("sub", json!([CLIENT])),
        ("jti", json!(5)),
        ("aud", json!(5)),
        ("aud", json!([])),
        ("purposeId", json!(1)),
        ("digest", json!("abc")),
    ] {
        let r = run(&good_header(), &with(good_payload(), claim, v));
        assert!(r.has(Rule::ClaimType), "{claim}: {:?}", r.findings());
    }
    // Arrays of strings are a valid aud.
    let r = run(
        &good_header(),
        &with(good_payload(), "aud", json!(["x", UAT_AUD])),
    );
    assert!(r.findings().is_empty(), "{:?}", r.findings());
}

#[test]
fn claims_extra() {
    for claim in ["nbf", "client_id", "producerId", "eserviceId", "scope"] {
        let r = run(&good_header(), &with(good_payload(), claim, json!(NOW)));
        assert!(r.has(Rule::ClaimsExtra), "{claim}");
        assert!(r.findings()[0].detail().contains(claim));
        assert!(!r.is_acceptable());
    }
    assert!(!run(&good_header(), &good_payload()).has(Rule::ClaimsExtra));
}

#[test]
fn sub_not_uuid() {
    let p = with(
        with(good_payload(), "sub", json!("comune-di-roma")),
        "iss",
        json!("comune-di-roma"),
    );
    assert_rule(Rule::SubNotUuid, good_header(), p);
}

#[test]
fn sub_not_client_id() {
    let other = "11111111-2222-4333-8444-555555555555";
    let p = with(
        with(good_payload(), "sub", json!(other)),
        "iss",
        json!(other),
    );
    assert_rule(Rule::SubNotClientId, good_header(), p);
    // PDND compares exactly: an upper-case copy of the id is another id.
    let p = with(good_payload(), "sub", json!(CLIENT.to_uppercase()));
    assert!(run(&good_header(), &p).has(Rule::SubNotClientId));
}

#[test]
fn iss_not_client_id() {
    let p = with(good_payload(), "iss", json!("interop.pagopa.it"));
    assert_rule(Rule::IssNotClientId, good_header(), p.clone());
    assert!(
        run(&good_header(), &p).is_acceptable(),
        "PDND only checks presence"
    );
    // Without an expected client id, iss is compared with sub.
    let r = diagnose(
        &forge(&good_header(), &p),
        &Expectations::new(Environment::Collaudo.endpoints()),
        &clock(),
    );
    assert!(r.has(Rule::IssNotClientId));
}

#[test]
fn jti_not_uuid() {
    assert_rule(
        Rule::JtiNotUuid,
        good_header(),
        with(good_payload(), "jti", json!("12345")),
    );
    // A UUID of another version is not a v4.
    let p = with(
        good_payload(),
        "jti",
        json!("0b6f0a1e-6f7a-1e1c-9e0e-2f4d8a1c7b55"),
    );
    assert!(run(&good_header(), &p).has(Rule::JtiNotUuid));
}

#[test]
fn aud_scheme() {
    let p = with(good_payload(), "aud", json!(format!("https://{UAT_AUD}")));
    assert_rule(Rule::AudScheme, good_header(), p.clone());
    let r = run(&good_header(), &p);
    assert!(r.findings()[0].detail().contains("without the scheme"));
}

#[test]
fn aud_other_environment() {
    let p = with(
        good_payload(),
        "aud",
        json!("auth.interop.pagopa.it/client-assertion"),
    );
    assert_rule(Rule::AudOtherEnvironment, good_header(), p.clone());
    let r = run(&good_header(), &p);
    assert!(r.findings()[0].detail().contains("produzione"));
    assert!(!r.has(Rule::AudMismatch));
}

#[test]
fn aud_mismatch() {
    let p = with(
        good_payload(),
        "aud",
        json!("modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR/C030/v1"),
    );
    assert_rule(Rule::AudMismatch, good_header(), p);
    // An overridden audience is what is expected.
    let e = Expectations::new(
        Environment::Collaudo
            .endpoints()
            .with_assertion_audience("x/client-assertion"),
    );
    let r = diagnose(
        &forge(
            &good_header(),
            &with(good_payload(), "aud", json!("x/client-assertion")),
        ),
        &e,
        &clock(),
    );
    assert!(!r.has(Rule::AudMismatch));
}

#[test]
fn purpose_missing() {
    assert_rule(
        Rule::PurposeMissing,
        good_header(),
        without(good_payload(), "purposeId"),
    );
}

#[test]
fn purpose_not_uuid() {
    assert_rule(
        Rule::PurposeNotUuid,
        good_header(),
        with(good_payload(), "purposeId", json!("finalita-1")),
    );
}

#[test]
fn purpose_mismatch() {
    let p = with(
        good_payload(),
        "purposeId",
        json!("11111111-2222-4333-8444-555555555555"),
    );
    assert_rule(Rule::PurposeMismatch, good_header(), p);
}

fn digest(alg: Value, value: Value) -> Value {
    with(
        good_payload(),
        "digest",
        json!({ "alg": alg, "value": value }),
    )
}

fn te_hex() -> String {
    AssertionDigest::of(TE.as_bytes()).as_hex().to_string()
}

#[test]
fn digest_alg() {
    assert_rule(
        Rule::DigestAlg,
        good_header(),
        digest(json!("SHA-256"), json!(te_hex())),
    );
    assert_rule(
        Rule::DigestAlg,
        good_header(),
        with(good_payload(), "digest", json!({ "value": te_hex() })),
    );
    assert!(
        run(&good_header(), &digest(json!("SHA256"), json!(te_hex())))
            .findings()
            .is_empty()
    );
}

#[test]
fn digest_length() {
    assert_rule(
        Rule::DigestLength,
        good_header(),
        digest(json!("SHA256"), json!(&te_hex()[..63])),
    );
    assert_rule(
        Rule::DigestLength,
        good_header(),
        digest(json!("SHA256"), json!(5)),
    );
    // base64 of a SHA-256 is 44 characters: a classic mix-up.
    assert_rule(
        Rule::DigestLength,
        good_header(),
        digest(
            json!("SHA256"),
            json!("R9ByDk3vYV4lI7wS+3BC7r3pAFm8y5oG2ypxGkYpwnQ="),
        ),
    );
}

#[test]
fn digest_not_hex() {
    let v = format!("{}zz", &te_hex()[..62]);
    assert_rule(
        Rule::DigestNotHex,
        good_header(),
        digest(json!("SHA256"), json!(v)),
    );
    assert!(run(
        &good_header(),
        &digest(json!("SHA256"), json!(format!("{}zz", &te_hex()[..62])))
    )
    .is_acceptable());
}

#[test]
fn digest_uppercase() {
    let p = digest(json!("SHA256"), json!(te_hex().to_uppercase()));
    assert_rule(Rule::DigestUppercase, good_header(), p.clone());
    assert!(run(&good_header(), &p).is_acceptable());
}

#[test]
fn digest_missing() {
    let e = expect().tracking_evidence(TE);
    let r = diagnose(&forge(&good_header(), &good_payload()), &e, &clock());
    assert!(r.has(Rule::DigestMissing));
    let r = diagnose(
        &forge(&good_header(), &digest(json!("SHA256"), json!(te_hex()))),
        &e,
        &clock(),
    );
    assert!(r.findings().is_empty(), "{:?}", r.findings());
}

#[test]
fn digest_mismatch() {
    let e = expect().tracking_evidence(format!("{TE}x"));
    let r = diagnose(
        &forge(&good_header(), &digest(json!("SHA256"), json!(te_hex()))),
        &e,
        &clock(),
    );
    assert!(r.has(Rule::DigestMismatch));
    assert!(!r.is_acceptable());
    // Case does not matter for the binding (PDND copies, erogatori compare).
    let e = expect().tracking_evidence(TE);
    let r = diagnose(
        &forge(
            &good_header(),
            &digest(json!("SHA256"), json!(te_hex().to_uppercase())),
        ),
        &e,
        &clock(),
    );
    assert!(!r.has(Rule::DigestMismatch));
}

#[test]
fn key_too_small() {
    let pem = std::fs::read_to_string(format!(
        "{}/tests/data/test-only-rsa1024-public.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let small = PublicKey::from_pem(&pem).unwrap();
    let e = expect().public_key(small);
    let r = diagnose(&forge(&good_header(), &good_payload()), &e, &clock());
    assert!(r.has(Rule::KeyTooSmall));
    assert!(!r.has(Rule::SignatureInvalid));
}

#[test]
fn signature_invalid() {
    let a = AssertionBuilder::new(
        ClientId::parse(CLIENT).unwrap(),
        PurposeId::parse(PURPOSE).unwrap(),
        &Environment::Collaudo.endpoints(),
    )
    .build(key(), &clock())
    .unwrap();
    let e = expect().public_key(key().public_key().clone());
    assert!(!diagnose(a.jws().as_str(), &e, &clock()).has(Rule::SignatureInvalid));
    // Tamper with the payload: the signature no longer matches.
    let mut parts: Vec<String> = a.jws().as_str().split('.').map(String::from).collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["exp"] = json!(NOW + 200);
    parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    let r = diagnose(&parts.join("."), &e, &clock());
    assert_eq!(r.findings().len(), 1, "{:?}", r.findings());
    assert!(r.has(Rule::SignatureInvalid));
    // A forged signature fails too.
    assert!(
        diagnose(&forge(&good_header(), &good_payload()), &e, &clock()).has(Rule::SignatureInvalid)
    );
}

#[test]
fn expired() {
    let p = with(
        with(good_payload(), "iat", json!(NOW - 600)),
        "exp",
        json!(NOW - 300),
    );
    assert_rule(Rule::Expired, good_header(), p);
    let p = with(good_payload(), "exp", json!(NOW));
    assert!(
        run(&good_header(), &p).has(Rule::Expired),
        "exp == now is expired"
    );
}

#[test]
fn expires_soon() {
    let p = with(good_payload(), "exp", json!(NOW + 10));
    assert_rule(Rule::ExpiresSoon, good_header(), p.clone());
    assert!(run(&good_header(), &p).is_acceptable());
    let r = diagnose(
        &forge(&good_header(), &p),
        &expect().min_remaining(5),
        &clock(),
    );
    assert!(!r.has(Rule::ExpiresSoon));
}

#[test]
fn iat_in_future() {
    let p = with(
        with(good_payload(), "iat", json!(NOW + 3600)),
        "exp",
        json!(NOW + 3900),
    );
    assert_rule(Rule::IatInFuture, good_header(), p);
    let p = with(good_payload(), "iat", json!(NOW + 30));
    assert!(
        !run(&good_header(), &p).has(Rule::IatInFuture),
        "within tolerance"
    );
    let r = diagnose(
        &forge(&good_header(), &p),
        &expect().clock_tolerance(10),
        &clock(),
    );
    assert!(r.has(Rule::IatInFuture));
}

#[test]
fn lifetime_nonpositive() {
    let p = with(
        with(good_payload(), "iat", json!(NOW + 500)),
        "exp",
        json!(NOW + 400),
    );
    let r = run(&good_header(), &p);
    assert!(r.has(Rule::LifetimeNonPositive));
}

#[test]
fn lifetime_long() {
    // 30 days, as some integrators do.
    let p = with(good_payload(), "exp", json!(NOW + 30 * 86_400));
    assert_rule(Rule::LifetimeLong, good_header(), p.clone());
    assert!(run(&good_header(), &p).is_acceptable());
    let r = diagnose(
        &forge(&good_header(), &p),
        &expect().max_lifetime(31 * 86_400),
        &clock(),
    );
    assert!(!r.has(Rule::LifetimeLong));
}

#[test]
fn float_times_are_numbers() {
    let p = with(good_payload(), "iat", json!(NOW as f64 + 0.5));
    assert!(run(&good_header(), &p).findings().is_empty());
}

#[test]
fn codes_are_unique_and_snake_case() {
    let rules = [
        Rule::JwsFormat,
        Rule::HeaderAlg,
        Rule::HeaderKidMissing,
        Rule::HeaderKidFormat,
        Rule::HeaderKidMismatch,
        Rule::HeaderTyp,
        Rule::HeaderExtra,
        Rule::ClaimMissing,
        Rule::ClaimType,
        Rule::ClaimsExtra,
        Rule::SubNotUuid,
        Rule::SubNotClientId,
        Rule::IssNotClientId,
        Rule::JtiNotUuid,
        Rule::AudScheme,
        Rule::AudOtherEnvironment,
        Rule::AudMismatch,
        Rule::PurposeMissing,
        Rule::PurposeNotUuid,
        Rule::PurposeMismatch,
        Rule::DigestAlg,
        Rule::DigestLength,
        Rule::DigestNotHex,
        Rule::DigestUppercase,
        Rule::DigestMissing,
        Rule::DigestMismatch,
        Rule::KeyTooSmall,
        Rule::SignatureInvalid,
        Rule::Expired,
        Rule::ExpiresSoon,
        Rule::IatInFuture,
        Rule::LifetimeNonPositive,
        Rule::LifetimeLong,
    ];
    let mut codes: Vec<&str> = rules.iter().map(|r| r.code()).collect();
    assert!(codes
        .iter()
        .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), rules.len());
}

#[test]
fn findings_never_show_the_signature() {
    let a = AssertionBuilder::new(
        ClientId::parse(CLIENT).unwrap(),
        PurposeId::parse(PURPOSE).unwrap(),
        &Environment::Produzione.endpoints(),
    )
    .build(key(), &clock())
    .unwrap();
    let other = PrivateKey::generate(RsaBits::Rsa2048).unwrap();
    let r = diagnose(
        a.jws().as_str(),
        &expect().public_key(other.public_key().clone()),
        &clock(),
    );
    let sig = a.jws().as_str().rsplit('.').next().unwrap();
    for f in r.findings() {
        assert!(!f.to_string().contains(sig));
    }
    assert!(r.has(Rule::AudOtherEnvironment));
    assert!(r.has(Rule::SignatureInvalid));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,70}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("alg".to_string()),
                        Just("kid".to_string()),
                        Just("digest".to_string()),
                        Just("value".to_string()),
                        Just("aud".to_string()),
                        Just("exp".to_string()),
                        "[a-zA-Z]{1,6}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
            let _ = diagnose(&s, &expect(), &clock());
        }

        #[test]
        fn arbitrary_json_parts_never_panic(h in arb_json(), p in arb_json(), key_given in any::<bool>()) {
            let mut e = expect().tracking_evidence(TE);
            if key_given {
                e = e.public_key(key().public_key().clone());
            }
            let _ = diagnose(&forge(&h, &p), &e, &clock());
        }

        #[test]
        fn mutated_claims_never_panic(
            claim in prop_oneof![Just("iat"), Just("exp"), Just("aud"), Just("sub"), Just("digest"), Just("purposeId")],
            v in arb_json(),
        ) {
            let r = run(&good_header(), &with(good_payload(), claim, v));
            for f in r.findings() {
                prop_assert!(!f.detail().is_empty());
            }
        }
    }
}
