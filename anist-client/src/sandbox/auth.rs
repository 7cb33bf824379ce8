//! The checks of PDND's authorization server on a token request, in the
//! order of protocol reference §2.4, as a pure function of the request, the
//! registry and the time. The HTTP layer ([`super`]) adds the rate limiter
//! (step 7), signs the voucher (step 9) and writes the answers of §2.5–§2.6.

use serde_json::{Map, Value};

use crate::ids::is_uuid;
use crate::jws::decode_unverified;
use crate::keys::Kid;
use crate::sandbox::registry::{Client, Descriptor, EService, Registry, State};
use crate::voucher::token::{parse_token_form, CLIENT_ASSERTION_TYPE, GRANT_TYPE};

/// Why the sandbox refused a token request: PDND's internal error name and
/// a detail (never the assertion itself). Sent in `X-Sandbox-Reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reason {
    pub(crate) code: &'static str,
    pub(crate) detail: String,
}

/// A refusal and the body it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The request validator refused the form: 400 `007-9999`.
    Schema(Vec<Reason>),
    /// A functional check failed: the opaque 400 `015-0008`.
    Opaque(Vec<Reason>),
}

impl Refusal {
    pub(crate) fn reasons(&self) -> &[Reason] {
        match self {
            Refusal::Schema(r) | Refusal::Opaque(r) => r,
        }
    }
}

fn reason(code: &'static str, detail: impl Into<String>) -> Reason {
    Reason {
        code,
        detail: detail.into(),
    }
}

/// What the checks established, for the voucher.
#[derive(Debug, Clone)]
pub(crate) struct Accepted<'r> {
    pub(crate) client: &'r Client,
    pub(crate) purpose_id: String,
    pub(crate) eservice: &'r EService,
    pub(crate) descriptor: &'r Descriptor,
    /// The assertion's `digest`, echoed into the voucher.
    pub(crate) digest: Option<Value>,
    /// The DPoP proof key's thumbprint: the voucher's `cnf.jkt`.
    pub(crate) dpop_jkt: Option<String>,
}

/// Knobs of the checks.
#[derive(Debug, Clone)]
pub(crate) struct Rules<'a> {
    pub(crate) audiences: &'a [String],
    pub(crate) strict: bool,
}

const HEADER_ALLOWED: [&str; 3] = ["alg", "kid", "typ"];
const CLAIMS_ALLOWED: [&str; 8] = [
    "iss",
    "sub",
    "aud",
    "jti",
    "iat",
    "exp",
    "purposeId",
    "digest",
];

/// JavaScript truthiness, which PDND's "claim present" checks use
/// (`if (!jti)`): absent, null, false, 0 and "" all count as missing.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(_) => true,
    }
}

fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    s.chars().take(120).collect()
}

/// Steps 0–6 of §2.4. `content_type` is the request's header; `dpop`,
/// when a `DPoP` header came, validates its proof (step 1) and gives the
/// key's thumbprint.
pub(crate) fn check<'r>(
    registry: &'r Registry,
    rules: &Rules<'_>,
    now: i64,
    content_type: Option<&str>,
    dpop: Option<&dyn Fn() -> Result<String, Reason>>,
    body: &[u8],
) -> Result<Accepted<'r>, Refusal> {
    // 0. The request validator (before the handler): a form body with
    // client_assertion, client_assertion_type, grant_type=client_credentials
    // and, if present, a UUID client_id. A body of another type is not
    // parsed at all, so its fields are "missing".
    let is_form = content_type.is_some_and(|ct| {
        ct.split(';').next().is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    });
    let form = if is_form {
        parse_token_form(body)
    } else {
        parse_token_form(b"")
    };
    let mut schema = Vec::new();
    for (name, value) in [
        ("client_assertion", &form.client_assertion),
        ("client_assertion_type", &form.client_assertion_type),
        ("grant_type", &form.grant_type),
    ] {
        if value.is_none() {
            schema.push(reason("invalidRequestBody", format!("{name}: Required")));
        }
    }
    if let Some(g) = &form.grant_type {
        if g != GRANT_TYPE {
            schema.push(reason(
                "invalidRequestBody",
                format!(
                    "grant_type: Invalid enum value. Expected 'client_credentials', received '{g}'"
                ),
            ));
        }
    }
    if let Some(id) = &form.client_id {
        if !is_uuid(id) {
            schema.push(reason("invalidRequestBody", "client_id: Invalid uuid"));
        }
    }
    // PDND's validator is a strict object schema: any other form field is
    // refused (no `scope`, `resource`, `client_secret`…).
    if !form.other_fields.is_empty() {
        let mut names: Vec<String> = Vec::new();
        for name in &form.other_fields {
            let quoted = format!("'{}'", show(&Value::String(name.clone())));
            if !names.contains(&quoted) {
                names.push(quoted);
            }
        }
        schema.push(reason(
            "invalidRequestBody",
            format!("Unrecognized key(s) in object: {}", names.join(", ")),
        ));
    }
    if !schema.is_empty() {
        return Err(Refusal::Schema(schema));
    }
    let (Some(assertion), Some(assertion_type)) =
        (&form.client_assertion, &form.client_assertion_type)
    else {
        return Err(Refusal::Schema(vec![reason(
            "invalidRequestBody",
            "missing field",
        )]));
    };

    // 1. The DPoP proof (§2.8), if one came.
    let dpop_jkt = match dpop {
        None => None,
        Some(validate) => Some(validate().map_err(|r| Refusal::Opaque(vec![r]))?),
    };

    // 2. Form values.
    if assertion_type != CLIENT_ASSERTION_TYPE {
        return Err(Refusal::Opaque(vec![reason(
            "invalidAssertionType",
            format!(
                "Assertion type not valid: {}",
                show(&Value::String(assertion_type.clone()))
            ),
        )]));
    }

    // 3. The assertion's shape and claims.
    let Ok(decoded) = decode_unverified(assertion) else {
        return Err(Refusal::Opaque(vec![reason(
            "invalidClientAssertionFormat",
            "Invalid format for Client assertion",
        )]));
    };
    let (header, payload) = (&decoded.header, &decoded.payload);
    let mut errors = Vec::new();
    check_claims(
        header,
        payload,
        form.client_id.as_deref(),
        rules,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(Refusal::Opaque(errors));
    }
    // Type-checked by check_claims.
    let sub = payload
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let purpose_id = payload.get("purposeId").and_then(Value::as_str);

    // 4. Key lookup by (client_id = sub, kid[, purposeId]).
    let Some(entry) = registry.key_entry(sub, kid, purpose_id) else {
        return Err(Refusal::Opaque(vec![reason(
            "tokenGenerationStatesEntryNotFound",
            format!(
                "Entry with PK {sub}#{kid}{} not found in token-generation-states table",
                purpose_id.map(|p| format!("#{p}")).unwrap_or_default()
            ),
        )]));
    };

    // 5. Signature (RS256, stored key), then nbf and exp, in the order of
    // the JWT library PDND uses (signature first).
    if !entry
        .key
        .verify_rs256(decoded.signing_input.as_bytes(), &decoded.signature)
    {
        return Err(Refusal::Opaque(vec![reason(
            "invalidSignature",
            "Client assertion signature is invalid",
        )]));
    }
    if !rules.strict {
        if let Some(nbf) = payload.get("nbf").and_then(Value::as_f64) {
            if nbf > now as f64 {
                return Err(Refusal::Opaque(vec![reason(
                    "notBeforeError",
                    "jwt not active",
                )]));
            }
        }
    }
    let exp = payload
        .get("exp")
        .and_then(Value::as_f64)
        .unwrap_or_default();
    if now as f64 >= exp {
        return Err(Refusal::Opaque(vec![reason(
            "tokenExpiredError",
            "Token expired",
        )]));
    }

    // 6. Platform state.
    let Some(purpose_id) = purpose_id else {
        return Err(Refusal::Opaque(vec![reason(
            "purposeIdNotProvided",
            "Claim purposeId does not exist in this assertion",
        )]));
    };
    let platform = |code, detail: &str| Err(Refusal::Opaque(vec![reason(code, detail)]));
    let Some(purpose) = registry.purpose_by_str(purpose_id) else {
        return platform("tokenGenerationStatesEntryNotFound", "purpose not found");
    };
    let Some(eservice) = registry.eservice(purpose.eservice()) else {
        return platform("tokenGenerationStatesEntryNotFound", "e-service not found");
    };
    let descriptor = eservice.descriptor();
    let agreement_active = registry
        .agreement(eservice.id(), entry.client.consumer())
        .is_some_and(|a| a.current_state() == State::Active);
    if !agreement_active {
        return platform("inactiveAgreement", "Agreement is not active");
    }
    if descriptor.current_state() != State::Active {
        return platform("inactiveEService", "E-Service is not active");
    }
    if purpose.current_state() != State::Active {
        return platform("inactivePurpose", "Purpose is not active");
    }
    if descriptor.is_async_only() {
        return platform(
            "asyncExchangeNotAllowed",
            "this e-service only accepts asynchronous exchanges (/token.oauth2.async)",
        );
    }
    Ok(Accepted {
        client: entry.client,
        purpose_id: purpose_id.to_string(),
        eservice,
        descriptor,
        // `digest: null` is an absent digest (as PDND reads it).
        digest: payload.get("digest").filter(|d| !d.is_null()).cloned(),
        dpop_jkt,
    })
}

fn string_claim(
    payload: &Map<String, Value>,
    name: &str,
    missing: &'static str,
    detail: &str,
    errors: &mut Vec<Reason>,
    invalid_types: &mut Vec<String>,
) -> Option<String> {
    let v = payload.get(name);
    if !truthy(v) {
        errors.push(reason(missing, detail));
        None
    } else if let Some(Value::String(s)) = v {
        Some(s.clone())
    } else {
        invalid_types.push(format!("{name}: Expected string"));
        None
    }
}

fn number_claim(
    payload: &Map<String, Value>,
    name: &str,
    missing: &'static str,
    detail: &str,
    errors: &mut Vec<Reason>,
    invalid_types: &mut Vec<String>,
) {
    let v = payload.get(name);
    if !truthy(v) {
        errors.push(reason(missing, detail));
    } else if !matches!(v, Some(Value::Number(_))) {
        invalid_types.push(format!("{name}: Expected number"));
    }
}

/// Step 3: every claim check, all errors collected (PDND's validators run
/// them all), then the strict allow-lists.
fn check_claims(
    header: &Map<String, Value>,
    payload: &Map<String, Value>,
    client_id: Option<&str>,
    rules: &Rules<'_>,
    errors: &mut Vec<Reason>,
) {
    let mut invalid_types = Vec::new();
    let _ = string_claim(
        payload,
        "jti",
        "jtiNotFound",
        "JTI not found",
        errors,
        &mut invalid_types,
    );
    number_claim(
        payload,
        "iat",
        "iatNotFound",
        "IAT not found",
        errors,
        &mut invalid_types,
    );
    number_claim(
        payload,
        "exp",
        "expNotFound",
        "EXP not found",
        errors,
        &mut invalid_types,
    );
    let _ = string_claim(
        payload,
        "iss",
        "issuerNotFound",
        "ISS not found",
        errors,
        &mut invalid_types,
    );
    if let Some(sub) = string_claim(
        payload,
        "sub",
        "subjectNotFound",
        "Subject not found",
        errors,
        &mut invalid_types,
    ) {
        if let Some(client_id) = client_id {
            if sub != client_id {
                errors.push(reason(
                    "invalidSubject",
                    format!("Subject claim value {} does not correspond to provided client_id parameter {client_id}", show(&Value::String(sub.clone()))),
                ));
            }
        }
        if !is_uuid(&sub) {
            errors.push(reason(
                "invalidSubjectFormat",
                format!(
                    "Unexpected format for Subject claim value {}",
                    show(&Value::String(sub))
                ),
            ));
        }
    }
    match payload.get("purposeId") {
        None => {}
        Some(Value::String(p)) if is_uuid(p) => {}
        Some(v) => errors.push(reason(
            "invalidPurposeIdClaimFormat",
            format!("Purpose Id claim {} is not a valid UUID", show(v)),
        )),
    }
    match header.get("kid") {
        v if !truthy(v) => errors.push(reason("kidNotFound", "KID not found")),
        Some(Value::String(k)) if Kid::is_well_formed(k) => {}
        Some(v) => errors.push(reason(
            "invalidKidFormat",
            format!("Unexpected format for kid {}", show(v)),
        )),
        None => {}
    }
    let aud = payload.get("aud");
    match aud {
        v if !truthy(v) => errors.push(reason("audienceNotFound", "Audience not found")),
        Some(Value::String(a)) if rules.audiences.iter().any(|x| x == a) => {}
        Some(Value::Array(items))
            if items.iter().all(Value::is_string)
                && items
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|a| rules.audiences.iter().any(|x| x == a)) => {}
        Some(v) => errors.push(reason(
            "invalidAudience",
            format!("Unexpected client assertion audience: {}", show(v)),
        )),
        None => {}
    }
    match header.get("alg") {
        v if !truthy(v) => errors.push(reason("algorithmNotFound", "Algorithm not found")),
        Some(Value::String(a)) if a == "RS256" => {}
        Some(v) => errors.push(reason(
            "algorithmNotAllowed",
            format!("Algorithm {} is not allowed", show(v)),
        )),
        None => {}
    }
    match payload.get("digest") {
        // PDND's schema makes `digest` nullish: null is an absent digest.
        None | Some(Value::Null) => {}
        Some(Value::Object(d)) => {
            match d.get("alg") {
                Some(Value::String(a)) if a == "SHA256" => {}
                other => errors.push(reason(
                    "invalidHashAlgorithm",
                    format!(
                        "Invalid hash algorithm {}",
                        other.map_or("(missing)".to_string(), show)
                    ),
                )),
            }
            match d.get("value") {
                Some(Value::String(v)) if v.chars().count() == 64 => {}
                other => errors.push(reason(
                    "invalidHashLength",
                    format!(
                        "Invalid hash length {}",
                        other
                            .and_then(Value::as_str)
                            .map_or(0, |s| s.chars().count())
                    ),
                )),
            }
            let extra: Vec<&str> = d
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "alg" && *k != "value")
                .collect();
            if rules.strict && !extra.is_empty() {
                invalid_types.push(format!("digest: unrecognized_keys {extra:?}"));
            }
        }
        Some(_) => invalid_types.push("digest: Expected object".to_string()),
    }
    if !errors.is_empty() {
        return;
    }
    // Strict mode: nothing outside the allow-lists, and the right types.
    if let Some(typ) = header.get("typ") {
        if !typ.is_string() {
            invalid_types.push("typ: Expected string".to_string());
        }
    }
    if rules.strict {
        for (part, map, allowed) in [
            ("header", &header, &HEADER_ALLOWED[..]),
            ("payload", &payload, &CLAIMS_ALLOWED[..]),
        ] {
            let extra: Vec<&str> = map
                .keys()
                .map(String::as_str)
                .filter(|k| !allowed.contains(k))
                .collect();
            if !extra.is_empty() {
                errors.push(reason(
                    "clientAssertionInvalidClaims",
                    format!(
                        "Invalid claims in client assertion {part}. Reason: [{{\"code\":\"unrecognized_keys\",\"keys\":{}}}]",
                        serde_json::to_string(&extra).unwrap_or_default()
                    ),
                ));
            }
        }
    }
    if !invalid_types.is_empty() {
        errors.push(reason(
            "clientAssertionInvalidClaims",
            format!(
                "Invalid claims in client assertion payload. Reason: {}",
                invalid_types.join(", ")
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn empty() -> Registry {
        Registry::builder().build().unwrap()
    }

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    fn rules(audiences: &[String]) -> Rules<'_> {
        Rules {
            audiences,
            strict: true,
        }
    }

    fn bad_proof() -> Result<String, Reason> {
        Err(reason("dpopProofValidationFailed", "test"))
    }

    #[test]
    fn order_schema_before_dpop_before_type() {
        let r = empty();
        let aud = vec!["a".to_string()];
        let e = check(&r, &rules(&aud), 0, FORM, Some(&bad_proof), b"grant_type=x").unwrap_err();
        assert!(matches!(e, Refusal::Schema(_)));
        assert_eq!(e.reasons().len(), 3);
        let body =
            format!("client_assertion=a.b.c&client_assertion_type=x&grant_type={GRANT_TYPE}");
        let e = check(&r, &rules(&aud), 0, FORM, Some(&bad_proof), body.as_bytes()).unwrap_err();
        assert_eq!(e.reasons()[0].code, "dpopProofValidationFailed");
        let e = check(&r, &rules(&aud), 0, FORM, None, body.as_bytes()).unwrap_err();
        assert_eq!(e.reasons()[0].code, "invalidAssertionType");
    }

    #[test]
    fn claim_errors_are_all_reported_in_pdnds_order() {
        let r = empty();
        let aud = vec!["a".to_string()];
        // {"x":1} . {} : every required member missing.
        let body = format!(
            "client_assertion=eyJ4IjoxfQ.e30.&client_assertion_type={}&grant_type={GRANT_TYPE}",
            CLIENT_ASSERTION_TYPE.replace(':', "%3A")
        );
        let e = check(&r, &rules(&aud), 0, FORM, None, body.as_bytes()).unwrap_err();
        let codes: Vec<&str> = e.reasons().iter().map(|r| r.code).collect();
        assert_eq!(
            codes,
            [
                "jtiNotFound",
                "iatNotFound",
                "expNotFound",
                "issuerNotFound",
                "subjectNotFound",
                "kidNotFound",
                "audienceNotFound",
                "algorithmNotFound"
            ]
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_are_refused_without_panic(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let r = empty();
            let aud = vec!["a".to_string()];
            prop_assert!(check(&r, &rules(&aud), 0, FORM, None, &body).is_err());
        }

        #[test]
        fn arbitrary_assertions_are_refused_without_panic(
            assertion in "[A-Za-z0-9_.=%-]{0,300}",
            client_id in proptest::option::of("[0-9a-f-]{36}"),
        ) {
            let r = empty();
            let aud = vec!["a".to_string()];
            let mut s = form_urlencoded::Serializer::new(String::new());
            s.append_pair("client_assertion", &assertion)
                .append_pair("client_assertion_type", CLIENT_ASSERTION_TYPE)
                .append_pair("grant_type", GRANT_TYPE);
            if let Some(c) = &client_id {
                s.append_pair("client_id", c);
            }
            let body = s.finish();
            prop_assert!(check(&r, &rules(&aud), 0, FORM, None, body.as_bytes()).is_err());
        }

        #[test]
        fn arbitrary_claims_are_refused_without_panic(
            header in proptest::collection::btree_map("[a-z]{1,4}", any::<i64>().prop_map(serde_json::Value::from), 0..5),
            claims in proptest::collection::btree_map("[a-zA-Z]{1,9}", "[ -~]{0,20}".prop_map(serde_json::Value::from), 0..9),
        ) {
            use base64::engine::general_purpose::URL_SAFE_NO_PAD;
            use base64::Engine as _;
            let r = empty();
            let aud = vec!["a".to_string()];
            let jws = format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(serde_json::to_string(&header).unwrap()),
                URL_SAFE_NO_PAD.encode(serde_json::to_string(&claims).unwrap()),
            );
            let body = form_urlencoded::Serializer::new(String::new())
                .append_pair("client_assertion", &jws)
                .append_pair("client_assertion_type", CLIENT_ASSERTION_TYPE)
                .append_pair("grant_type", GRANT_TYPE)
                .finish();
            prop_assert!(check(&r, &rules(&aud), 0, FORM, None, body.as_bytes()).is_err());
        }
    }
}
