//! Token request form and response parsing (protocol reference §2.3, §2.5, §2.6).

// Test helpers may unwrap: a panic there is a failing test.
#![allow(clippy::unwrap_used)]

use anist_client::clock::ManualClock;
use anist_client::env::Environment;
use anist_client::ids::{ClientId, PurposeId};
use anist_client::keys::{PrivateKey, RsaBits};
use anist_client::voucher::assertion::AssertionBuilder;
use anist_client::voucher::token::{
    parse_token_form, parse_token_response, FetchError, Problem, RateLimit, TokenRequest,
    TokenType, CLIENT_ASSERTION_TYPE,
};
use anist_core::ErrorCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

const CLIENT: &str = "c9b73ff4-e203-4580-911b-689514d350c2";
const PURPOSE: &str = "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e";
const CORR: &str = "7c5c4b52-1b1e-4b8e-a8d3-5bd0b8a3c1f2";

fn voucher_jws(payload: &serde_json::Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","use":"sig","typ":"at+jwt","kid":"9432c16b-7aae-49df-b9c4-ea61b556652b"}"#),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode([1u8; 256])
    )
}

#[test]
fn form_body_has_exactly_the_four_fields() {
    let key = PrivateKey::generate(RsaBits::Rsa2048).unwrap();
    let a = AssertionBuilder::new(
        ClientId::parse(CLIENT).unwrap(),
        PurposeId::parse(PURPOSE).unwrap(),
        &Environment::Collaudo.endpoints(),
    )
    .build(&key, &ManualClock::new(1_764_000_000))
    .unwrap();
    let req = TokenRequest::new(ClientId::parse(CLIENT).unwrap(), &a);
    let body = req.form_body();
    assert!(body.starts_with(&format!("client_id={CLIENT}&client_assertion=")));
    assert!(body.ends_with(
        "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&grant_type=client_credentials"
    ));
    let form = parse_token_form(body.as_bytes());
    assert_eq!(form.client_id.as_deref(), Some(CLIENT));
    assert_eq!(form.client_assertion.as_deref(), Some(a.jws().as_str()));
    assert_eq!(
        form.client_assertion_type.as_deref(),
        Some(CLIENT_ASSERTION_TYPE)
    );
    assert_eq!(form.grant_type.as_deref(), Some("client_credentials"));
    assert!(form.other_fields.is_empty());
    assert_eq!(
        TokenRequest::headers(),
        [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json")
        ]
    );
    let dbg = format!("{req:?} {form:?}");
    assert!(
        !dbg.contains(a.jws().as_str().split('.').nth(2).unwrap()),
        "{dbg}"
    );
}

#[test]
fn form_parsing_keeps_first_values_and_lists_others() {
    let f = parse_token_form(b"grant_type=client_credentials&grant_type=x&scope=a&client_id=%zz");
    assert_eq!(f.grant_type.as_deref(), Some("client_credentials"));
    assert_eq!(f.other_fields, ["scope"]);
    assert_eq!(f.client_id.as_deref(), Some("%zz"));
}

#[test]
fn success_response_and_voucher_claims() {
    let token = voucher_jws(&serde_json::json!({
        "jti": "x", "iss": "uat.interop.pagopa.it",
        "aud": "https://modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR/C020-servizioAccertamentoResidenza/v1",
        "client_id": CLIENT, "sub": CLIENT, "iat": 1_764_000_000, "nbf": 1_764_000_000,
        "exp": 1_764_000_600, "purposeId": PURPOSE,
        "digest": { "alg": "SHA256", "value": "5db26201b684761d2b970329ab8596773164ba1b43b1559980e20045941b8065" }
    }));
    let body =
        serde_json::json!({ "access_token": token, "token_type": "Bearer", "expires_in": 600 });
    let headers = [
        ("X-Rate-Limit-Limit", "10"),
        ("x-rate-limit-remaining", "9"),
        ("X-Rate-Limit-Interval", "1000"),
        ("Content-Type", "application/json"),
    ];
    let r = parse_token_response(200, headers, body.to_string().as_bytes()).unwrap();
    let v = &r.voucher;
    assert_eq!(v.token_type(), TokenType::Bearer);
    assert_eq!(v.expires_in(), 600);
    assert_eq!(v.iat(), Some(1_764_000_000));
    assert_eq!(v.exp(), Some(1_764_000_600));
    assert_eq!(v.lifetime(), 600);
    assert_eq!(v.purpose_id(), Some(PURPOSE));
    assert!(v
        .audience()
        .unwrap()
        .ends_with("C020-servizioAccertamentoResidenza/v1"));
    assert_eq!(
        v.digest(),
        Some("5db26201b684761d2b970329ab8596773164ba1b43b1559980e20045941b8065")
    );
    assert_eq!(v.authorization(), format!("Bearer {token}"));
    assert_eq!(
        r.rate,
        RateLimit {
            limit: Some(10),
            remaining: Some(9),
            interval_ms: Some(1000)
        }
    );
    let dbg = format!("{r:?}");
    assert!(!dbg.contains(&token), "{dbg}");
}

#[test]
fn dpop_and_opaque_tokens() {
    let body = br#"{"access_token":"opaque","token_type":"DPoP","expires_in":3600}"#;
    let v = parse_token_response(200, [], body).unwrap().voucher;
    assert_eq!(v.token_type(), TokenType::DPoP);
    assert_eq!(v.exp(), None);
    assert_eq!(v.lifetime(), 3600);
    assert!(v.authorization().starts_with("DPoP "));
}

#[test]
fn malformed_success_bodies() {
    for body in [
        &b""[..],
        b"[]",
        b"{}",
        br#"{"access_token":"","token_type":"Bearer","expires_in":600}"#,
        br#"{"access_token":"a b","token_type":"Bearer","expires_in":600}"#,
        br#"{"access_token":"t","token_type":"MAC","expires_in":600}"#,
        br#"{"access_token":"t","token_type":"Bearer","expires_in":0}"#,
        br#"{"access_token":"t","token_type":"Bearer","expires_in":"600"}"#,
    ] {
        let e = parse_token_response(200, [], body).unwrap_err();
        assert_eq!(
            e.code(),
            "voucher_unparseable",
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(e.correlation_id(), None);
    }
}

#[test]
fn refused_015_0008_is_an_authentication_error_with_correlation_id() {
    let body = serde_json::json!({
        "title": "The request contains bad syntax or cannot be fulfilled.",
        "type": "about:blank", "status": 400, "detail": "Bad request",
        "errors": [ { "code": "015-0008", "detail": "Unable to generate a token for the given request" } ],
        "correlationId": CORR
    });
    let e = parse_token_response(400, [], body.to_string().as_bytes()).unwrap_err();
    assert!(matches!(e, FetchError::Refused { .. }));
    assert_eq!(e.code(), "voucher_refused");
    assert_eq!(e.correlation_id(), Some(CORR));
    assert!(!e.is_retryable());
    assert!(e.to_string().contains(CORR));
    assert!(e.to_string().contains("pre-flight"));
}

#[test]
fn schema_errors_are_bad_requests() {
    let body = serde_json::json!({
        "type": "about:blank", "title": "Bad request", "status": 400, "detail": "Incorrect value for body",
        "correlationId": CORR, "errors": [ { "code": "007-9999", "detail": "grant_type must be client_credentials" } ]
    });
    let e = parse_token_response(400, [], body.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.code(), "voucher_bad_request");
    assert_eq!(e.correlation_id(), Some(CORR));
    assert!(e.to_string().contains("grant_type"));
    // An unreadable 400 body is still a bad request.
    let e = parse_token_response(400, [], b"<html>").unwrap_err();
    assert_eq!(e.code(), "voucher_bad_request");
    assert_eq!(e.correlation_id(), None);
}

#[test]
fn rate_limited() {
    let body = serde_json::json!({
        "type": "about:blank", "title": "Too Many Requests", "status": 429,
        "detail": "Requests limit exceeded for organization 1", "correlationId": CORR,
        "errors": [ { "code": "007-10004", "detail": "Requests limit exceeded for organization 1" } ]
    });
    let headers = [
        ("X-Rate-Limit-Limit", "10"),
        ("X-Rate-Limit-Remaining", "0"),
        ("X-Rate-Limit-Interval", "2500"),
    ];
    let e = parse_token_response(429, headers, body.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.code(), "voucher_throttled");
    assert!(e.is_retryable());
    assert_eq!(
        e.retry_after(),
        Some(std::time::Duration::from_millis(2500))
    );
    assert_eq!(e.correlation_id(), Some(CORR));
    // Without headers: one second.
    let e = parse_token_response(429, [], b"").unwrap_err();
    assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(1)));
}

#[test]
fn server_and_unexpected() {
    let body = serde_json::json!({
        "title": "The request couldn't be fulfilled due to an internal error", "type": "internalServerError",
        "status": 500, "detail": "Internal server error",
        "errors": [ { "code": "015-0000", "detail": "Unable to generate a token for the given request due to an internal error" } ],
        "correlationId": CORR
    });
    let e = parse_token_response(500, [], body.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.code(), "voucher_server_error");
    assert!(e.is_retryable());
    assert_eq!(e.correlation_id(), Some(CORR));
    assert_eq!(
        parse_token_response(503, [], b"").unwrap_err().code(),
        "voucher_server_error"
    );
    let e = parse_token_response(401, [], b"{}").unwrap_err();
    assert_eq!(e.code(), "voucher_unexpected_status");
    assert!(!e.is_retryable());
}

#[test]
fn problem_parsing_is_lenient() {
    let p = Problem::parse(
        br#"{"status":99999,"errors":[{"detail":"no code"},{"code":"1"}],"correlationId":5}"#,
    )
    .unwrap();
    assert_eq!(p.status, None);
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.correlation_id, None);
    assert!(Problem::parse(b"nope").is_none());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_responses_never_panic(
            status in prop_oneof![Just(200u16), Just(400), Just(429), Just(500), any::<u16>()],
            body in proptest::collection::vec(any::<u8>(), 0..300),
            hv in "\\PC{0,12}",
        ) {
            let headers = [("X-Rate-Limit-Interval", hv.as_str()), ("X-Rate-Limit-Limit", hv.as_str())];
            let _ = parse_token_response(status, headers, &body);
        }

        #[test]
        fn json_shaped_responses_never_panic(
            token in "\\PC{0,60}",
            ty in "\\PC{0,8}",
            exp in any::<i64>(),
            code in "[0-9-]{0,9}",
        ) {
            let ok = serde_json::json!({ "access_token": token, "token_type": ty, "expires_in": exp });
            let _ = parse_token_response(200, [], ok.to_string().as_bytes());
            let err = serde_json::json!({ "errors": [ { "code": code } ], "correlationId": token });
            let _ = parse_token_response(400, [], err.to_string().as_bytes());
        }

        #[test]
        fn arbitrary_forms_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_token_form(&body);
        }
    }
}
