//! The checks of the GovWay-like front on a call to an e-service
//! (protocol reference §3.2, §3.3, §3.5, §4, §10.2), as pure functions of
//! the request, the registry and the time. The HTTP layer ([`super`])
//! adds what needs state: the daily quota, the concurrency limit, the
//! `jti` replay filter, faults and the backend.
//!
//! Order: operation → voucher (authentication) → voucher scope
//! (authorization) → quota and concurrency (in [`super`]) →
//! INTEGRITY_REST_02 → AUDIT_REST_02 → `jti` replay (in [`super`]).

use serde_json::{Map, Value};

use crate::encoding::{hex_lower, sha256};
use crate::jws::{decode_unverified, DecodedJws};
use crate::keys::PublicKey;
use crate::sandbox::registry::{Client, EService, Front, Registry};

/// A refusal of the front: the one a backend may give too.
pub(crate) use super::backend::Refusal as GwRefusal;

const INTEROP_DETAIL: &str =
    "Received request is not conform to the required interoperability profile";

fn refuse(
    status: u16,
    title: &'static str,
    detail: &'static str,
    reason: impl Into<String>,
) -> GwRefusal {
    GwRefusal {
        status,
        title,
        detail,
        reason: reason.into(),
    }
}

/// 400 `InteroperabilityInvalidRequest`: every ModI failure.
fn interop(reason: impl Into<String>) -> GwRefusal {
    refuse(
        400,
        "InteroperabilityInvalidRequest",
        INTEROP_DETAIL,
        reason,
    )
}

fn auth_failed(reason: impl Into<String>) -> GwRefusal {
    refuse(401, "TokenAuthenticationFailed", "Invalid token", reason)
}

/// Time windows of the ModI tokens (§3.5 and assumption U4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Windows {
    /// `iat` of `Agid-JWT-Signature` not older than this, seconds.
    pub(crate) iat_max_age: i64,
    /// `iat` at most this far in the future, seconds.
    pub(crate) future_tolerance: i64,
    /// `iat` of `Agid-JWT-TrackingEvidence` not older than this, seconds.
    pub(crate) audit_max_age: i64,
    /// Compare the voucher's `digest.value` with the evidence's hash
    /// case-sensitively (assumption U6; off by default).
    pub(crate) digest_case_sensitive: bool,
}

/// What the front verifies against.
pub(crate) struct Rules<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) voucher_key: &'a PublicKey,
    pub(crate) voucher_kid: &'a str,
    pub(crate) issuer: &'a str,
    pub(crate) now: i64,
    pub(crate) windows: Windows,
}

/// A request as received: header names lower-case, in arrival order.
pub(crate) struct Request<'a> {
    pub(crate) headers: &'a [(String, String)],
    pub(crate) body: &'a [u8],
}

impl Request<'_> {
    /// The first value of header `name` (lower-case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The caller established from a valid voucher.
#[derive(Debug, Clone)]
pub(crate) struct Caller<'r> {
    pub(crate) client: &'r Client,
    pub(crate) purpose_id: String,
    /// The voucher's `digest` claim, if any.
    pub(crate) digest: Option<Value>,
}

/// The operations each backend offers: `(method, operation)`
/// ([`super::registry::Backend::operation_known`]).
pub(crate) fn operation_known(front: &Front, method: &str, operation: &str) -> bool {
    front.backend_kind().operation_known(method, operation)
}

fn number(m: &Map<String, Value>, name: &str) -> Option<i64> {
    match m.get(name) {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    }
}

fn nonempty_str<'m>(m: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    m.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn show(s: &str) -> String {
    s.chars().take(80).collect()
}

/// The voucher: `Authorization: Bearer`, RS256 by the sandbox's key,
/// issuer, required claims, time, audience = the e-service's, purpose →
/// this e-service and this client.
pub(crate) fn authenticate<'r>(
    rules: &Rules<'r>,
    eservice: &'r EService,
    req: &Request<'_>,
) -> Result<Caller<'r>, GwRefusal> {
    let Some(auth) = req.header("authorization") else {
        return Err(refuse(
            401,
            "TokenAuthenticationRequired",
            "A token is required",
            "no Authorization header",
        ));
    };
    let (scheme, token) = auth.trim().split_once(' ').unwrap_or((auth.trim(), ""));
    let token = token.trim();
    // DPoP vouchers are checked further by the front (super::dpop).
    if !(scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("dpop"))
        || token.is_empty()
    {
        return Err(refuse(
            401,
            "TokenAuthenticationRequired",
            "A token is required",
            format!(
                "the Authorization scheme must be Bearer or DPoP with a voucher (found {:?})",
                show(scheme)
            ),
        ));
    }
    let Ok(jws) = decode_unverified(token) else {
        return Err(auth_failed("the voucher is not a compact JWS"));
    };
    if jws.header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(auth_failed("the voucher's alg is not RS256"));
    }
    if jws.header.get("kid").and_then(Value::as_str) != Some(rules.voucher_kid) {
        return Err(auth_failed(
            "the voucher's kid is not a key of the sandbox's JWKS",
        ));
    }
    if !rules
        .voucher_key
        .verify_rs256(jws.signing_input.as_bytes(), &jws.signature)
    {
        return Err(auth_failed("the voucher's signature does not verify"));
    }
    let p = &jws.payload;
    if p.get("iss").and_then(Value::as_str) != Some(rules.issuer) {
        return Err(auth_failed(format!(
            "the voucher's iss is not {}",
            rules.issuer
        )));
    }
    let mut missing = Vec::new();
    for name in ["iat", "exp"] {
        if number(p, name).is_none() {
            missing.push(name);
        }
    }
    for name in ["aud", "client_id", "purposeId"] {
        if nonempty_str(p, name).is_none() {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        return Err(refuse(
            401,
            "TokenRequiredClaimsNotFound",
            "Required token claims not found",
            format!("the voucher lacks {missing:?}"),
        ));
    }
    let now = rules.now;
    if number(p, "exp").is_some_and(|exp| now >= exp) {
        return Err(refuse(
            401,
            "TokenExpired",
            "Token expired",
            "the voucher's exp is past",
        ));
    }
    if number(p, "nbf").is_some_and(|nbf| nbf > now) {
        return Err(refuse(
            401,
            "TokenNotBefore",
            "Token not yet valid",
            "the voucher's nbf is in the future",
        ));
    }
    if number(p, "iat").is_some_and(|iat| iat > now + rules.windows.future_tolerance) {
        return Err(refuse(
            401,
            "TokenInTheFuture",
            "Token issued in the future",
            "the voucher's iat is in the future",
        ));
    }
    let descriptor = eservice.descriptor();
    let aud = nonempty_str(p, "aud").unwrap_or_default();
    if !aud
        .split(',')
        .any(|a| descriptor.audiences().iter().any(|x| x == a.trim()))
    {
        return Err(refuse(
            403,
            "AuthorizationTokenDeny",
            "Authorization deny by token claims",
            format!("the voucher's aud {:?} is not this e-service's", show(aud)),
        ));
    }
    let client_id = nonempty_str(p, "client_id").unwrap_or_default();
    let purpose_id = nonempty_str(p, "purposeId").unwrap_or_default();
    let deny = |why: &str| {
        refuse(
            403,
            "AuthorizationDeny",
            "Authorization failed",
            why.to_string(),
        )
    };
    let Some(purpose) = rules.registry.purpose_by_str(purpose_id) else {
        return Err(deny(
            "the voucher's purposeId is not a purpose of the registry",
        ));
    };
    if purpose.eservice() != eservice.id() {
        return Err(deny("the voucher's purpose is on another e-service"));
    }
    let Some(client) = rules
        .registry
        .clients()
        .into_iter()
        .find(|c| c.id() == client_id)
    else {
        return Err(deny(
            "the voucher's client_id is not a client of the registry",
        ));
    };
    if !client.purposes().iter().any(|x| x == purpose_id) {
        return Err(deny(
            "the voucher's client is not associated with its purpose",
        ));
    }
    Ok(Caller {
        client,
        purpose_id: purpose_id.to_string(),
        digest: p.get("digest").cloned(),
    })
}

/// A ModI token signed by a key of the caller's PDND client: decoded,
/// `alg` RS256, `kid` uploaded on that client, signature verified.
fn modi_token(
    rules: &Rules<'_>,
    caller: &Caller<'_>,
    header_name: &str,
    value: &str,
) -> Result<DecodedJws, GwRefusal> {
    let Ok(jws) = decode_unverified(value) else {
        return Err(interop(format!("{header_name} is not a compact JWS")));
    };
    if jws.header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(interop(format!("{header_name}: alg is not RS256")));
    }
    let Some(kid) = jws.header.get("kid").and_then(Value::as_str) else {
        return Err(interop(format!("{header_name}: no kid in the header")));
    };
    let Some((owner, key)) = rules.registry.key_by_kid(kid) else {
        return Err(interop(format!(
            "{header_name}: kid {} is not registered on PDND (GET /keys/{{kid}} answers 404)",
            show(kid)
        )));
    };
    if owner.id() != caller.client.id() {
        return Err(interop(format!(
            "{header_name}: the kid belongs to another PDND client than the voucher's"
        )));
    }
    if !key.verify_rs256(jws.signing_input.as_bytes(), &jws.signature) {
        return Err(interop(format!(
            "{header_name}: the signature does not verify with the key of its kid"
        )));
    }
    Ok(jws)
}

/// `aud` (a string, or an array of strings) names one of the e-service's
/// audiences.
fn audience_ok(p: &Map<String, Value>, eservice: &EService) -> bool {
    let ok = |a: &str| eservice.descriptor().audiences().iter().any(|x| x == a);
    match p.get("aud") {
        Some(Value::String(a)) => ok(a),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).any(ok),
        _ => false,
    }
}

/// `iat` within `[now - max_age, now + tolerance]`, `exp` not past, `nbf`
/// not future (§3.5).
fn time_window(
    p: &Map<String, Value>,
    name: &str,
    now: i64,
    max_age: i64,
    tolerance: i64,
) -> Result<i64, GwRefusal> {
    let (Some(iat), Some(exp)) = (number(p, "iat"), number(p, "exp")) else {
        return Err(interop(format!("{name}: iat and exp are required numbers")));
    };
    if iat < now.saturating_sub(max_age) {
        return Err(interop(format!("{name}: iat is older than {max_age} s")));
    }
    if iat > now.saturating_add(tolerance) {
        return Err(interop(format!(
            "{name}: iat is more than {tolerance} s in the future"
        )));
    }
    if now >= exp {
        return Err(interop(format!("{name}: exp is past")));
    }
    if number(p, "nbf").is_some_and(|nbf| nbf > now) {
        return Err(interop(format!("{name}: nbf is in the future")));
    }
    Ok(exp)
}

/// The headers INTEGRITY_REST_02 requires to be signed when present.
const MUST_SIGN: [&str; 3] = ["digest", "content-type", "content-encoding"];

/// INTEGRITY_REST_02 (§3.2, §3.5): `Digest` over the exact body,
/// `Agid-JWT-Signature` by the caller's key, `aud`, time window,
/// `signed_headers`. Returns the signature's `jti` and `exp` for the
/// replay filter.
pub(crate) fn integrity(
    rules: &Rules<'_>,
    eservice: &EService,
    caller: &Caller<'_>,
    req: &Request<'_>,
) -> Result<(String, i64), GwRefusal> {
    // Digest: required with a body; RFC 3230, SHA-256, base64 only.
    match req.header("digest") {
        None if !req.body.is_empty() => {
            return Err(interop("the Digest header is required with a body"));
        }
        None => {}
        Some(d) => {
            let Some((alg, value)) = d.trim().split_once('=') else {
                return Err(interop("Digest is not <algorithm>=<value>"));
            };
            if !alg.eq_ignore_ascii_case("SHA-256") {
                return Err(interop(format!(
                    "Digest algorithm {:?} is not SHA-256",
                    show(alg)
                )));
            }
            use base64::Engine as _;
            let decoded = base64::engine::general_purpose::STANDARD.decode(value);
            match decoded {
                Ok(bytes) if bytes.len() == 32 => {
                    if bytes != sha256(req.body) {
                        return Err(interop(
                            "Digest does not match the SHA-256 of the body received",
                        ));
                    }
                }
                _ => return Err(interop(
                    "Digest value is not the padded standard base64 of a SHA-256 (hex is refused)",
                )),
            }
        }
    }
    let Some(sig) = req.header("agid-jwt-signature") else {
        return Err(interop("the Agid-JWT-Signature header is required"));
    };
    let jws = modi_token(rules, caller, "Agid-JWT-Signature", sig)?;
    let p = &jws.payload;
    if !audience_ok(p, eservice) {
        return Err(interop(
            "Agid-JWT-Signature: aud is not the e-service's audience",
        ));
    }
    let exp = time_window(
        p,
        "Agid-JWT-Signature",
        rules.now,
        rules.windows.iat_max_age,
        rules.windows.future_tolerance,
    )?;
    let Some(jti) = nonempty_str(p, "jti") else {
        return Err(interop("Agid-JWT-Signature: jti is required"));
    };
    // signed_headers: an array of single-member objects with string values.
    let mut signed: Vec<(String, &str)> = Vec::new();
    match p.get("signed_headers") {
        None => {}
        Some(Value::Array(items)) => {
            for item in items {
                let one = item.as_object().filter(|o| o.len() == 1).and_then(|o| {
                    o.iter()
                        .next()
                        .and_then(|(k, v)| v.as_str().map(|v| (k.to_ascii_lowercase(), v)))
                });
                match one {
                    Some(pair) => signed.push(pair),
                    None => {
                        return Err(interop(
                            "Agid-JWT-Signature: signed_headers must be an array of single-member objects with string values",
                        ))
                    }
                }
            }
        }
        Some(_) => {
            return Err(interop(
                "Agid-JWT-Signature: signed_headers must be an array",
            ))
        }
    }
    for name in MUST_SIGN {
        if req.header(name).is_some() && !signed.iter().any(|(n, _)| n == name) {
            return Err(interop(format!(
                "Agid-JWT-Signature: the {name} header is sent but not signed"
            )));
        }
    }
    for (name, value) in &signed {
        match req.header(name) {
            Some(sent) if sent == *value => {}
            Some(_) => {
                return Err(interop(format!(
                    "Agid-JWT-Signature: the signed value of {} differs from the header sent",
                    show(name)
                )))
            }
            None => {
                return Err(interop(format!(
                    "Agid-JWT-Signature: {} is signed but not sent",
                    show(name)
                )))
            }
        }
    }
    Ok((jti.to_string(), exp))
}

/// AUDIT_REST_02 (§3.3, U4, U6): the TrackingEvidence signed by the
/// caller's key, its required claims, its age, and its SHA-256 (lower-case
/// hex) equal to the voucher's `digest.value`.
pub(crate) fn audit(
    rules: &Rules<'_>,
    eservice: &EService,
    front: &Front,
    caller: &Caller<'_>,
    req: &Request<'_>,
) -> Result<Map<String, Value>, GwRefusal> {
    let Some(te) = req.header("agid-jwt-trackingevidence") else {
        return Err(interop("the Agid-JWT-TrackingEvidence header is required"));
    };
    let Some(Value::Object(d)) = &caller.digest else {
        return Err(interop(
            "the voucher carries no digest: it was not requested for a TrackingEvidence",
        ));
    };
    let (Some("SHA256"), Some(expected)) = (
        d.get("alg").and_then(Value::as_str),
        d.get("value").and_then(Value::as_str),
    ) else {
        return Err(interop("the voucher's digest is not {alg: SHA256, value}"));
    };
    let actual = hex_lower(&sha256(te.as_bytes()));
    let same = if rules.windows.digest_case_sensitive {
        actual == expected
    } else {
        actual.eq_ignore_ascii_case(expected)
    };
    if !same {
        return Err(interop(
            "the SHA-256 of Agid-JWT-TrackingEvidence differs from the voucher's digest",
        ));
    }
    let jws = modi_token(rules, caller, "Agid-JWT-TrackingEvidence", te)?;
    let p = &jws.payload;
    let mut missing: Vec<&str> = ["iss", "aud", "jti", "iat", "exp"]
        .into_iter()
        .filter(|c| !p.contains_key(*c))
        .collect();
    for c in front.required_audit_claims() {
        let present = match p.get(c) {
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(Value::Null) | None => false,
            Some(_) => true,
        };
        if !present {
            missing.push(c);
        }
    }
    if !missing.is_empty() {
        return Err(interop(format!(
            "Agid-JWT-TrackingEvidence lacks the claims {missing:?}"
        )));
    }
    if p.get("iss").and_then(Value::as_str) != Some(caller.client.id()) {
        return Err(interop(
            "Agid-JWT-TrackingEvidence: iss is not the voucher's client_id",
        ));
    }
    if !audience_ok(p, eservice) {
        return Err(interop(
            "Agid-JWT-TrackingEvidence: aud is not the e-service's audience",
        ));
    }
    if let Some(purpose) = p.get("purposeId") {
        if purpose.as_str() != Some(caller.purpose_id.as_str()) {
            return Err(interop(
                "Agid-JWT-TrackingEvidence: purposeId is not the voucher's",
            ));
        }
    }
    time_window(
        p,
        "Agid-JWT-TrackingEvidence",
        rules.now,
        rules.windows.audit_max_age,
        rules.windows.future_tolerance,
    )?;
    Ok(jws.payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{PrivateKey, RsaBits};
    use crate::sandbox::registry::Front;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn fixture() -> &'static (Registry, PrivateKey) {
        static F: OnceLock<(Registry, PrivateKey)> = OnceLock::new();
        F.get_or_init(|| {
            let key = PrivateKey::generate(RsaBits::Rsa2048).unwrap();
            let r = Registry::default_builder(key.public_key().clone())
                .build()
                .unwrap();
            (r, key)
        })
    }

    fn rules() -> Rules<'static> {
        let (reg, k) = fixture();
        Rules {
            registry: reg,
            voucher_key: k.public_key(),
            voucher_kid: "00000000-0000-4000-8000-000000000000",
            issuer: "sandbox.anist.invalid",
            now: 1_764_000_000,
            windows: Windows {
                iat_max_age: 300,
                future_tolerance: 5,
                audit_max_age: 300,
                digest_case_sensitive: false,
            },
        }
    }

    #[test]
    fn echo_operation() {
        let f = Front::new("a", "b");
        assert!(operation_known(&f, "POST", "echo"));
        assert!(!operation_known(&f, "GET", "echo"));
        assert!(!operation_known(&f, "POST", "echo/x"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn arbitrary_requests_never_panic(
            headers in proptest::collection::vec(
                (prop_oneof![
                    Just("authorization".to_string()),
                    Just("digest".to_string()),
                    Just("agid-jwt-signature".to_string()),
                    Just("agid-jwt-trackingevidence".to_string()),
                    Just("content-type".to_string()),
                    "[a-z-]{1,12}",
                ], "\\PC{0,120}"),
                0..6,
            ),
            body in proptest::collection::vec(any::<u8>(), 0..200),
            token in "[A-Za-z0-9_.=-]{0,200}",
        ) {
            let (reg, _) = fixture();
            let rules = rules();
            let echo = reg.eservice(crate::sandbox::registry::ECHO_ESERVICE).unwrap();
            let front = echo.descriptor().front_profile().unwrap();
            let mut hs = headers.clone();
            hs.push(("authorization".into(), format!("Bearer {token}")));
            let req = Request { headers: &hs, body: &body };
            // The voucher can never verify (random text), but every step must
            // run without panicking on whatever reaches it.
            prop_assert!(authenticate(&rules, echo, &req).is_err());
            let client = reg.clients()[0];
            let caller = Caller { client, purpose_id: "x".into(), digest: Some(serde_json::json!({"alg":"SHA256","value":"ab"})) };
            let _ = integrity(&rules, echo, &caller, &req);
            let _ = audit(&rules, echo, front, &caller, &req);
        }
    }
}
