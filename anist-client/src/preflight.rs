//! Offline diagnosis of a client assertion: everything PDND checks that can
//! be checked without PDND (protocol reference §2.2 and §2.4), plus the
//! mistakes integrators make most often.
//!
//! PDND answers every refused assertion with the same opaque
//! `400 015-0008`; [`diagnose`] says which rule an assertion breaks and what
//! to do about it, like the back office's "Debug client assertion" tool but
//! locally and before anything is sent.
//!
//! ```
//! use anist_client::clock::ManualClock;
//! use anist_client::env::Environment;
//! use anist_client::preflight::{diagnose, Expectations, Rule};
//!
//! let expect = Expectations::new(Environment::Produzione.endpoints());
//! let report = diagnose("not a jws", &expect, &ManualClock::new(1_764_000_000));
//! assert!(!report.is_acceptable());
//! assert_eq!(report.findings()[0].rule(), Rule::JwsFormat);
//! assert_eq!(report.findings()[0].rule().code(), "jws_format");
//! ```

use std::fmt;

use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::encoding::{hex_lower, sha256};
use crate::env::{Environment, PdndEndpoints};
use crate::ids::{is_uuid, is_uuid_v4, ClientId, PurposeId};
use crate::jws::decode_unverified;
use crate::keys::{Kid, PublicKey, MIN_RSA_BITS};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// PDND (or, for the digest binding, the e-service) refuses the request.
    Refused,
    /// Accepted today, but fragile, risky or against PDND's documentation.
    Warning,
}

/// The rules [`diagnose`] checks. Each has a stable [`Rule::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// Not a compact JWS with JSON-object header and payload.
    JwsFormat,
    /// `alg` missing or not `RS256`.
    HeaderAlg,
    /// `kid` missing.
    HeaderKidMissing,
    /// `kid` not 43 base64url characters.
    HeaderKidFormat,
    /// `kid` is not the thumbprint of the given key.
    HeaderKidMismatch,
    /// `typ` missing or not `JWT`.
    HeaderTyp,
    /// Header members other than `alg`, `kid`, `typ`.
    HeaderExtra,
    /// A required claim is missing.
    ClaimMissing,
    /// A claim has the wrong JSON type.
    ClaimType,
    /// Claims outside the allow-list.
    ClaimsExtra,
    /// `sub` is not a UUID.
    SubNotUuid,
    /// `sub` is not the expected client id.
    SubNotClientId,
    /// `iss` differs from the client id.
    IssNotClientId,
    /// `jti` is not a UUID v4.
    JtiNotUuid,
    /// `aud` has a scheme.
    AudScheme,
    /// `aud` is the audience of another PDND environment.
    AudOtherEnvironment,
    /// `aud` is not the expected audience.
    AudMismatch,
    /// `purposeId` missing.
    PurposeMissing,
    /// `purposeId` is not a UUID.
    PurposeNotUuid,
    /// `purposeId` is not the expected purpose.
    PurposeMismatch,
    /// `digest.alg` is not `SHA256`.
    DigestAlg,
    /// `digest.value` is not 64 characters.
    DigestLength,
    /// `digest.value` is 64 characters but not hexadecimal.
    DigestNotHex,
    /// `digest.value` uses upper-case hex.
    DigestUppercase,
    /// A TrackingEvidence was given but the assertion has no digest.
    DigestMissing,
    /// `digest.value` is not the SHA-256 of the given TrackingEvidence.
    DigestMismatch,
    /// The given public key is under 2048 bits.
    KeyTooSmall,
    /// The signature does not verify with the given key.
    SignatureInvalid,
    /// `exp` has passed.
    Expired,
    /// `exp` is less than the margin away.
    ExpiresSoon,
    /// `iat` is ahead of this machine's clock.
    IatInFuture,
    /// `exp <= iat`.
    LifetimeNonPositive,
    /// `exp - iat` is longer than the configured maximum.
    LifetimeLong,
}

impl Rule {
    /// The stable snake-case code of the rule.
    pub fn code(self) -> &'static str {
        match self {
            Rule::JwsFormat => "jws_format",
            Rule::HeaderAlg => "header_alg",
            Rule::HeaderKidMissing => "header_kid_missing",
            Rule::HeaderKidFormat => "header_kid_format",
            Rule::HeaderKidMismatch => "header_kid_mismatch",
            Rule::HeaderTyp => "header_typ",
            Rule::HeaderExtra => "header_extra",
            Rule::ClaimMissing => "claim_missing",
            Rule::ClaimType => "claim_type",
            Rule::ClaimsExtra => "claims_extra",
            Rule::SubNotUuid => "sub_not_uuid",
            Rule::SubNotClientId => "sub_not_client_id",
            Rule::IssNotClientId => "iss_not_client_id",
            Rule::JtiNotUuid => "jti_not_uuid",
            Rule::AudScheme => "aud_scheme",
            Rule::AudOtherEnvironment => "aud_other_environment",
            Rule::AudMismatch => "aud_mismatch",
            Rule::PurposeMissing => "purpose_missing",
            Rule::PurposeNotUuid => "purpose_not_uuid",
            Rule::PurposeMismatch => "purpose_mismatch",
            Rule::DigestAlg => "digest_alg",
            Rule::DigestLength => "digest_length",
            Rule::DigestNotHex => "digest_not_hex",
            Rule::DigestUppercase => "digest_uppercase",
            Rule::DigestMissing => "digest_missing",
            Rule::DigestMismatch => "digest_mismatch",
            Rule::KeyTooSmall => "key_too_small",
            Rule::SignatureInvalid => "signature_invalid",
            Rule::Expired => "expired",
            Rule::ExpiresSoon => "expires_soon",
            Rule::IatInFuture => "iat_in_future",
            Rule::LifetimeNonPositive => "lifetime_nonpositive",
            Rule::LifetimeLong => "lifetime_long",
        }
    }

    /// Whether breaking the rule gets the request refused.
    pub fn severity(self) -> Severity {
        match self {
            Rule::HeaderTyp
            | Rule::IssNotClientId
            | Rule::JtiNotUuid
            | Rule::DigestNotHex
            | Rule::DigestUppercase
            | Rule::ExpiresSoon
            | Rule::IatInFuture
            | Rule::LifetimeNonPositive
            | Rule::LifetimeLong => Severity::Warning,
            _ => Severity::Refused,
        }
    }

    /// What to do about it.
    pub fn fix(self) -> &'static str {
        match self {
            Rule::JwsFormat => "Send the compact JWS exactly as signed: three base64url parts separated by dots, no quotes, no line breaks.",
            Rule::HeaderAlg => "Sign with RS256: PDND accepts no other algorithm.",
            Rule::HeaderKidMissing => "Put the key's kid (its RFC 7638 thumbprint, shown in the PDND back office next to the key) in the header.",
            Rule::HeaderKidFormat => "The kid is the 43-character RFC 7638 thumbprint PDND shows for the uploaded key, not a name or a UUID; `anist keys kid` computes it.",
            Rule::HeaderKidMismatch => "Sign with the private key whose public part is uploaded on the PDND client, and use that key's thumbprint as kid.",
            Rule::HeaderTyp => "Set typ to \"JWT\" as PDND's manual shows.",
            Rule::HeaderExtra => "Remove every header member other than alg, kid and typ (x5c, x5t, jku… are refused since July 2025).",
            Rule::ClaimMissing => "Add the missing claim: iss, sub, aud, jti, iat and exp are all required.",
            Rule::ClaimType => "iat and exp are numbers of seconds (not strings); iss, sub, jti, purposeId are strings; aud is a string; digest is an object.",
            Rule::ClaimsExtra => "Remove every claim other than iss, sub, aud, jti, iat, exp, purposeId, digest: PDND refuses nbf, client_id and any other since July 2025.",
            Rule::SubNotUuid => "sub is the client id: the UUID of the PDND client e-service.",
            Rule::SubNotClientId => "Set sub (and iss) to the client id, and send the same value as the client_id form field.",
            Rule::IssNotClientId => "Set iss to the client id, like sub.",
            Rule::JtiNotUuid => "Use a fresh random UUID (v4) as jti for every assertion.",
            Rule::AudScheme => "The assertion audience has no scheme: auth.interop.pagopa.it/client-assertion, not https://….",
            Rule::AudOtherEnvironment => "The audience belongs to another environment: collaudo, attestazione and produzione each have their own token URL, audience, client and keys.",
            Rule::AudMismatch => "Set aud to the environment's client-assertion audience shown in the PDND back office (e.g. auth.uat.interop.pagopa.it/client-assertion), not the e-service URL.",
            Rule::PurposeMissing => "Add purposeId: vouchers for e-services need the finalità's UUID (or the client is an API-interop client, which cannot call e-services).",
            Rule::PurposeNotUuid => "purposeId is the UUID of the finalità shown in the PDND back office.",
            Rule::PurposeMismatch => "Use the purposeId of the finalità this client is associated with for this e-service.",
            Rule::DigestAlg => "digest.alg is exactly \"SHA256\" (no dash).",
            Rule::DigestLength => "digest.value is the SHA-256 as 64 hexadecimal characters.",
            Rule::DigestNotHex => "digest.value must be hexadecimal, or no e-service will ever match it.",
            Rule::DigestUppercase => "Write digest.value in lower case: PDND does not care, some e-services may.",
            Rule::DigestMissing => "With AUDIT_REST_02 the assertion carries digest {alg: SHA256, value: sha256 hex of the TrackingEvidence}.",
            Rule::DigestMismatch => "Compute digest.value over the exact TrackingEvidence that will be sent with the calls; a new TrackingEvidence needs a new voucher.",
            Rule::KeyTooSmall => "PDND requires RSA keys of at least 2048 bits: generate a new key and upload its public part.",
            Rule::SignatureInvalid => "Sign with the private key matching the public key uploaded for this kid, RS256, over the exact header.payload text.",
            Rule::Expired => "Build a new assertion right before asking for a voucher; do not reuse one from the back-office tool.",
            Rule::ExpiresSoon => "Build the assertion right before the request, with a few minutes of lifetime.",
            Rule::IatInFuture => "Synchronise this machine's clock (NTP): it is behind the one that signed the assertion.",
            Rule::LifetimeNonPositive => "Set exp after iat (iat + 300 s is usual).",
            Rule::LifetimeLong => "Keep assertions short-lived (5-10 minutes): whoever copies one gets vouchers until it expires.",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    rule: Rule,
    detail: String,
}

impl Finding {
    /// The rule.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// The rule's severity.
    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }

    /// What was found (names claims and public values; never a signature,
    /// a key or the token).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// What to do.
    pub fn fix(&self) -> &'static str {
        self.rule.fix()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity() {
            Severity::Refused => "refused",
            Severity::Warning => "warning",
        };
        write!(f, "[{sev}] {}: {} — {}", self.rule, self.detail, self.fix())
    }
}

/// The result of [`diagnose`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    findings: Vec<Finding>,
}

impl Report {
    /// All findings, in the order PDND would meet them.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// True when no finding is [`Severity::Refused`].
    pub fn is_acceptable(&self) -> bool {
        self.findings
            .iter()
            .all(|f| f.severity() != Severity::Refused)
    }

    /// True when the rule was broken.
    pub fn has(&self, rule: Rule) -> bool {
        self.findings.iter().any(|f| f.rule == rule)
    }

    fn add(&mut self, rule: Rule, detail: impl Into<String>) {
        self.findings.push(Finding {
            rule,
            detail: detail.into(),
        });
    }
}

/// What the assertion should contain. Only the environment is required;
/// each optional expectation enables the rules that need it.
#[derive(Debug, Clone)]
pub struct Expectations {
    endpoints: PdndEndpoints,
    client_id: Option<ClientId>,
    purpose_id: Option<PurposeId>,
    public_key: Option<PublicKey>,
    tracking_evidence: Option<String>,
    max_lifetime: i64,
    min_remaining: i64,
    clock_tolerance: i64,
}

impl Expectations {
    /// Expect an assertion for `endpoints` (its audience).
    pub fn new(endpoints: PdndEndpoints) -> Self {
        Self {
            endpoints,
            client_id: None,
            purpose_id: None,
            public_key: None,
            tracking_evidence: None,
            max_lifetime: 3600,
            min_remaining: 30,
            clock_tolerance: 60,
        }
    }

    /// Expect `sub` (and `iss`) to be this client id.
    #[must_use]
    pub fn client_id(mut self, id: ClientId) -> Self {
        self.client_id = Some(id);
        self
    }

    /// Expect this `purposeId`.
    #[must_use]
    pub fn purpose_id(mut self, id: PurposeId) -> Self {
        self.purpose_id = Some(id);
        self
    }

    /// Check `kid`, key size and signature against this public key (the one
    /// uploaded on PDND).
    #[must_use]
    pub fn public_key(mut self, key: PublicKey) -> Self {
        self.public_key = Some(key);
        self
    }

    /// Expect `digest` to bind this compact TrackingEvidence.
    #[must_use]
    pub fn tracking_evidence(mut self, compact: impl Into<String>) -> Self {
        self.tracking_evidence = Some(compact.into());
        self
    }

    /// Warn when `exp - iat` exceeds this many seconds (default 3600).
    #[must_use]
    pub fn max_lifetime(mut self, seconds: i64) -> Self {
        self.max_lifetime = seconds;
        self
    }

    /// Warn when fewer than this many seconds remain before `exp` (default 30).
    #[must_use]
    pub fn min_remaining(mut self, seconds: i64) -> Self {
        self.min_remaining = seconds;
        self
    }

    /// Tolerated clock difference for `iat` in the future (default 60 s).
    #[must_use]
    pub fn clock_tolerance(mut self, seconds: i64) -> Self {
        self.clock_tolerance = seconds;
        self
    }
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

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Shortens a value for a finding's detail (claims may be long).
fn show(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        format!("{s:?}")
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

/// Diagnoses a client assertion offline. Never panics, whatever the input.
pub fn diagnose(assertion: &str, expect: &Expectations, clock: &dyn Clock) -> Report {
    let mut report = Report::default();
    let decoded = match decode_unverified(assertion) {
        Ok(d) => d,
        Err(e) => {
            report.add(Rule::JwsFormat, e.to_string());
            return report;
        }
    };
    check_header(&decoded.header, expect, &mut report);
    check_payload(&decoded.payload, expect, clock, &mut report);
    if let Some(key) = &expect.public_key {
        if key.bits() < MIN_RSA_BITS {
            report.add(
                Rule::KeyTooSmall,
                format!("the public key has {} bits", key.bits()),
            );
        } else if !key.verify_rs256(decoded.signing_input.as_bytes(), &decoded.signature) {
            report.add(
                Rule::SignatureInvalid,
                format!("the signature does not verify with the key {}", key.kid()),
            );
        }
    }
    report
}

fn check_header(header: &Map<String, Value>, expect: &Expectations, report: &mut Report) {
    match header.get("alg") {
        Some(Value::String(a)) if a == "RS256" => {}
        Some(v) => report.add(
            Rule::HeaderAlg,
            format!(
                "alg is {}",
                v.as_str().map_or(type_name(v).to_string(), show)
            ),
        ),
        None => report.add(Rule::HeaderAlg, "alg is missing"),
    }
    match header.get("kid") {
        None => report.add(Rule::HeaderKidMissing, "kid is missing"),
        Some(Value::String(k)) => {
            if !Kid::is_well_formed(k) {
                report.add(
                    Rule::HeaderKidFormat,
                    format!("kid {} has {} characters", show(k), k.chars().count()),
                );
            } else if let Some(key) = &expect.public_key {
                if key.kid().as_str() != k {
                    report.add(
                        Rule::HeaderKidMismatch,
                        format!("kid is {k}, the key's thumbprint is {}", key.kid()),
                    );
                }
            }
        }
        Some(v) => report.add(
            Rule::HeaderKidFormat,
            format!("kid is {}, not a string", type_name(v)),
        ),
    }
    match header.get("typ") {
        Some(Value::String(t)) if t == "JWT" => {}
        Some(v) => report.add(
            Rule::HeaderTyp,
            format!(
                "typ is {}",
                v.as_str().map_or(type_name(v).to_string(), show)
            ),
        ),
        None => report.add(Rule::HeaderTyp, "typ is missing"),
    }
    let extra: Vec<&str> = header
        .keys()
        .map(String::as_str)
        .filter(|k| !HEADER_ALLOWED.contains(k))
        .collect();
    if !extra.is_empty() {
        report.add(
            Rule::HeaderExtra,
            format!("unexpected header members: {}", extra.join(", ")),
        );
    }
}

/// A string claim: `None` if missing (reported) or of the wrong type (reported).
fn string_claim<'a>(
    payload: &'a Map<String, Value>,
    name: &str,
    report: &mut Report,
) -> Option<&'a str> {
    match payload.get(name) {
        None => {
            report.add(Rule::ClaimMissing, format!("{name} is missing"));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(v) => {
            report.add(
                Rule::ClaimType,
                format!("{name} is {}, not a string", type_name(v)),
            );
            None
        }
    }
}

fn number_claim(payload: &Map<String, Value>, name: &str, report: &mut Report) -> Option<f64> {
    match payload.get(name) {
        None => {
            report.add(Rule::ClaimMissing, format!("{name} is missing"));
            None
        }
        Some(Value::Number(n)) => n.as_f64(),
        Some(v) => {
            report.add(
                Rule::ClaimType,
                format!("{name} is {}, not a number of seconds", type_name(v)),
            );
            None
        }
    }
}

fn check_payload(
    payload: &Map<String, Value>,
    expect: &Expectations,
    clock: &dyn Clock,
    report: &mut Report,
) {
    // Presence and types, in PDND's order: jti, iat, exp, iss, sub.
    let jti = string_claim(payload, "jti", report);
    let iat = number_claim(payload, "iat", report);
    let exp = number_claim(payload, "exp", report);
    let iss = string_claim(payload, "iss", report);
    let sub = string_claim(payload, "sub", report);

    if let Some(jti) = jti {
        if !is_uuid_v4(jti) {
            report.add(Rule::JtiNotUuid, format!("jti is {}", show(jti)));
        }
    }

    if let Some(sub) = sub {
        if !is_uuid(sub) {
            report.add(Rule::SubNotUuid, format!("sub is {}", show(sub)));
        } else if let Some(client) = &expect.client_id {
            if sub != client.as_str() {
                report.add(
                    Rule::SubNotClientId,
                    format!("sub is {sub}, the client id is {client}"),
                );
            }
        }
    }
    if let Some(iss) = iss {
        let reference = expect
            .client_id
            .as_ref()
            .map(ClientId::as_str)
            .or(sub.filter(|s| is_uuid(s)));
        if let Some(reference) = reference {
            if iss != reference {
                report.add(
                    Rule::IssNotClientId,
                    format!("iss is {}, the client id is {reference}", show(iss)),
                );
            }
        }
    }

    check_audience(payload, expect, report);
    check_purpose(payload, expect, report);
    check_digest(payload, expect, report);

    let extra: Vec<&str> = payload
        .keys()
        .map(String::as_str)
        .filter(|k| !CLAIMS_ALLOWED.contains(k))
        .collect();
    if !extra.is_empty() {
        report.add(
            Rule::ClaimsExtra,
            format!("claims outside the allow-list: {}", extra.join(", ")),
        );
    }

    check_times(iat, exp, expect, clock, report);
}

fn check_audience(payload: &Map<String, Value>, expect: &Expectations, report: &mut Report) {
    let auds: Vec<&str> = match payload.get("aud") {
        None => {
            report.add(Rule::ClaimMissing, "aud is missing");
            return;
        }
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) && !items.is_empty() => {
            items.iter().filter_map(Value::as_str).collect()
        }
        Some(v) => {
            report.add(
                Rule::ClaimType,
                format!("aud is {}, not a string", type_name(v)),
            );
            return;
        }
    };
    let expected = expect.endpoints.assertion_audience();
    if auds.contains(&expected) {
        return;
    }
    let shown = auds.iter().map(|a| show(a)).collect::<Vec<_>>().join(", ");
    if let Some(with_scheme) = auds.iter().find(|a| a.contains("://")) {
        let without = with_scheme.split_once("://").map_or("", |(_, rest)| rest);
        let detail = if without == expected {
            format!("aud is {shown}; expected {expected} (same, without the scheme)")
        } else {
            format!("aud is {shown}; expected {expected}")
        };
        report.add(Rule::AudScheme, detail);
        return;
    }
    let other = Environment::ALL.iter().find(|env| {
        **env != expect.endpoints.environment()
            && auds.contains(&env.endpoints().assertion_audience())
    });
    match other {
        Some(env) => report.add(
            Rule::AudOtherEnvironment,
            format!(
                "aud is {shown}, the {} audience; this is {} ({expected})",
                env.name(),
                expect.endpoints.environment().name()
            ),
        ),
        None => report.add(
            Rule::AudMismatch,
            format!("aud is {shown}; expected {expected}"),
        ),
    }
}

fn check_purpose(payload: &Map<String, Value>, expect: &Expectations, report: &mut Report) {
    match payload.get("purposeId") {
        None => report.add(Rule::PurposeMissing, "purposeId is missing"),
        Some(Value::String(p)) => {
            if !is_uuid(p) {
                report.add(Rule::PurposeNotUuid, format!("purposeId is {}", show(p)));
            } else if let Some(expected) = &expect.purpose_id {
                if p != expected.as_str() {
                    report.add(
                        Rule::PurposeMismatch,
                        format!("purposeId is {p}, expected {expected}"),
                    );
                }
            }
        }
        Some(v) => report.add(
            Rule::ClaimType,
            format!("purposeId is {}, not a string", type_name(v)),
        ),
    }
}

fn check_digest(payload: &Map<String, Value>, expect: &Expectations, report: &mut Report) {
    let expected_hex = expect
        .tracking_evidence
        .as_ref()
        .map(|te| hex_lower(&sha256(te.as_bytes())));
    let digest = match payload.get("digest") {
        None => {
            if expected_hex.is_some() {
                report.add(
                    Rule::DigestMissing,
                    "a TrackingEvidence is expected but the assertion has no digest",
                );
            }
            return;
        }
        Some(Value::Object(o)) => o,
        Some(v) => {
            report.add(
                Rule::ClaimType,
                format!("digest is {}, not an object", type_name(v)),
            );
            return;
        }
    };
    match digest.get("alg") {
        Some(Value::String(a)) if a == "SHA256" => {}
        Some(v) => report.add(
            Rule::DigestAlg,
            format!(
                "digest.alg is {}",
                v.as_str().map_or(type_name(v).to_string(), show)
            ),
        ),
        None => report.add(Rule::DigestAlg, "digest.alg is missing"),
    }
    let value = match digest.get("value") {
        Some(Value::String(v)) => v,
        Some(v) => {
            report.add(
                Rule::DigestLength,
                format!("digest.value is {}, not a string", type_name(v)),
            );
            return;
        }
        None => {
            report.add(Rule::DigestLength, "digest.value is missing");
            return;
        }
    };
    if value.chars().count() != 64 {
        report.add(
            Rule::DigestLength,
            format!("digest.value has {} characters", value.chars().count()),
        );
        return;
    }
    if !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        report.add(
            Rule::DigestNotHex,
            "digest.value has non-hexadecimal characters",
        );
        return;
    }
    if value.bytes().any(|b| b.is_ascii_uppercase()) {
        report.add(Rule::DigestUppercase, "digest.value has upper-case letters");
    }
    if let Some(expected) = expected_hex {
        if !value.eq_ignore_ascii_case(&expected) {
            report.add(
                Rule::DigestMismatch,
                format!("digest.value is {value}, the TrackingEvidence hashes to {expected}"),
            );
        }
    }
}

fn check_times(
    iat: Option<f64>,
    exp: Option<f64>,
    expect: &Expectations,
    clock: &dyn Clock,
    report: &mut Report,
) {
    // i64 seconds fit exactly in f64 for any realistic date.
    let now = clock.now() as f64;
    if let Some(exp) = exp {
        if exp <= now {
            report.add(
                Rule::Expired,
                format!("exp was {} seconds ago", (now - exp).round()),
            );
        } else if exp - now < expect.min_remaining as f64 {
            report.add(
                Rule::ExpiresSoon,
                format!("exp is {} seconds away", (exp - now).round()),
            );
        }
    }
    if let Some(iat) = iat {
        if iat > now + expect.clock_tolerance as f64 {
            report.add(
                Rule::IatInFuture,
                format!("iat is {} seconds ahead of this clock", (iat - now).round()),
            );
        }
    }
    if let (Some(iat), Some(exp)) = (iat, exp) {
        if exp <= iat {
            report.add(
                Rule::LifetimeNonPositive,
                format!("exp - iat is {} seconds", (exp - iat).round()),
            );
        } else if exp - iat > expect.max_lifetime as f64 {
            report.add(
                Rule::LifetimeLong,
                format!("exp - iat is {} seconds", (exp - iat).round()),
            );
        }
    }
}
