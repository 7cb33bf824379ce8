//! ModI security headers (protocol reference §3): `Digest`,
//! `Agid-JWT-Signature` (INTEGRITY_REST_02) and `Agid-JWT-TrackingEvidence`
//! (AUDIT_REST_02).
//!
//! ```
//! use anist_client::clock::ManualClock;
//! use anist_client::ids::{ClientId, PurposeId};
//! use anist_client::keys::{PrivateKey, RsaBits};
//! use anist_client::modi::{digest_header, AuditContext, IntegrityRequest, ModiSigner};
//! use std::sync::Arc;
//!
//! assert_eq!(digest_header(b""), "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
//!
//! let key = Arc::new(PrivateKey::generate(RsaBits::Rsa2048)?);
//! let signer = ModiSigner::new(ClientId::parse("c9b73ff4-e203-4580-911b-689514d350c2")?, key);
//! let clock = ManualClock::new(1_764_000_000);
//! let audience = "https://modipa-val.anpr.interno.it/govway/rest/in/MinInternoPortaANPR/C030-servizioAccertamentoIdUnicoNazionale/v1";
//!
//! let body = br#"{"idOperazioneClient":"1"}"#;
//! let headers = signer.integrity(
//!     &IntegrityRequest::new(audience).body(body).content_type("application/json"),
//!     &clock,
//! )?;
//! assert_eq!(headers.headers()[0].0, "Digest");
//!
//! let context = AuditContext::new("operatore-42", "c_h501")?.with_loa("LoA3");
//! let purpose = PurposeId::parse("ffe23164-4b19-4ac4-8ee3-2a259dc2b81e")?;
//! let te = signer.tracking_evidence(&context, &purpose, audience, &clock)?;
//! assert_eq!(te.digest().as_hex().len(), 64); // goes into the client assertion
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The signer may use the same key as the client assertion or another key
//! registered on the same PDND client ([`ModiSigner::new`] takes whichever
//! key you give it; the `kid` follows the key).

use std::fmt;
use std::sync::Arc;

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use serde::Serialize;

use crate::clock::Clock;
use crate::encoding::{b64std, hex_lower, random_fill, sha256};
use crate::ids::{new_uuid_v4, ClientId, PurposeId};
use crate::jws::{sign_rs256, CompactJws};
use crate::keys::{KeyError, PrivateKey};

/// The `digest` claim: SHA-256 of the data the voucher is bound to (for
/// AUDIT_REST_02, the compact `Agid-JWT-TrackingEvidence`), as 64
/// lower-case hex characters. Made by [`AssertionDigest::of`], or read
/// with `AssertionDigest::from_hex` (in [`crate::voucher::assertion`]).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssertionDigest(pub(crate) String);

impl AssertionDigest {
    /// The SHA-256 of `bytes` (for a TrackingEvidence: its ASCII compact
    /// serialization).
    pub fn of(bytes: &[u8]) -> Self {
        Self(hex_lower(&sha256(bytes)))
    }

    /// The 64 lower-case hex characters.
    pub fn as_hex(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AssertionDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AssertionDigest({})", self.0)
    }
}

/// Name of the integrity digest header (RFC 3230).
pub const DIGEST_HEADER: &str = "Digest";
/// Name of the INTEGRITY_REST_02 signature header.
pub const SIGNATURE_HEADER: &str = "Agid-JWT-Signature";
/// Name of the AUDIT_REST_02 header.
pub const TRACKING_EVIDENCE_HEADER: &str = "Agid-JWT-TrackingEvidence";

/// Default `exp - iat` of an `Agid-JWT-Signature`, in seconds.
pub const DEFAULT_SIGNATURE_LIFETIME: i64 = 300;
/// Default `exp - iat` of an `Agid-JWT-TrackingEvidence`, in seconds.
pub const DEFAULT_TRACKING_EVIDENCE_LIFETIME: i64 = 600;

/// `SHA-256=<base64 of the SHA-256 of body>`: the RFC 3230 `Digest` value
/// ModI and GovWay expect (standard base64 with padding; not RFC 9530
/// `Content-Digest`). Compute it over the exact bytes that are sent.
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", b64std(&sha256(body)))
}

/// Why a ModI header could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModiError {
    /// The audience is empty or contains blanks.
    #[error("the ModI audience must be a non-empty value without blanks (the e-service audience or URL)")]
    Audience,
    /// A header value contains characters not allowed in HTTP headers.
    #[error("the {name} header value contains control characters")]
    HeaderValue {
        /// The header's name.
        name: &'static str,
    },
    /// A required audit field is empty.
    #[error("the audit field {field} must not be empty")]
    EmptyAuditField {
        /// `userID` or `userLocation`.
        field: &'static str,
    },
    /// The lifetime is not positive.
    #[error("a ModI token lifetime must be between 1 and 3600 seconds, found {seconds}")]
    Lifetime {
        /// The refused lifetime.
        seconds: i64,
    },
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The system's random generator failed.
    #[error("the system's random generator failed")]
    Random,
}

impl ErrorCode for ModiError {
    fn code(&self) -> &'static str {
        match self {
            ModiError::Audience => "modi_audience",
            ModiError::HeaderValue { .. } => "modi_header_value",
            ModiError::EmptyAuditField { .. } => "modi_audit_field",
            ModiError::Lifetime { .. } => "modi_lifetime",
            ModiError::Key(k) => k.code(),
            ModiError::Random => "random_failure",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            ModiError::Audience | ModiError::Lifetime { .. } => ErrorKind::Config,
            ModiError::HeaderValue { .. } | ModiError::EmptyAuditField { .. } => {
                ErrorKind::InvalidArgument
            }
            ModiError::Key(k) => k.kind(),
            ModiError::Random => ErrorKind::Local,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for ModiError {
    fn samples() -> Vec<Self> {
        let mut v = vec![
            ModiError::Audience,
            ModiError::HeaderValue {
                name: SIGNATURE_HEADER,
            },
            ModiError::EmptyAuditField { field: "userID" },
            ModiError::Lifetime { seconds: 0 },
            ModiError::Random,
        ];
        v.extend(KeyError::samples().into_iter().map(ModiError::Key));
        v
    }
}

/// What an `Agid-JWT-Signature` covers for one request.
#[derive(Debug, Clone)]
pub struct IntegrityRequest<'a> {
    audience: &'a str,
    body: Option<&'a [u8]>,
    content_type: Option<&'a str>,
    content_encoding: Option<&'a str>,
    purpose_id: Option<&'a PurposeId>,
}

impl<'a> IntegrityRequest<'a> {
    /// A request to a service whose ModI audience is `audience` (by default
    /// the voucher audience of the e-service; some erogatori want the
    /// invocation URL instead).
    pub fn new(audience: &'a str) -> Self {
        Self {
            audience,
            body: None,
            content_type: None,
            content_encoding: None,
            purpose_id: None,
        }
    }

    /// The exact body bytes that will be sent: adds and signs `Digest`.
    /// Without a body (e.g. `GET`) no `Digest` is sent.
    #[must_use]
    pub fn body(mut self, body: &'a [u8]) -> Self {
        self.body = Some(body);
        self
    }

    /// The `Content-Type` header that will be sent (signed when present).
    #[must_use]
    pub fn content_type(mut self, value: &'a str) -> Self {
        self.content_type = Some(value);
        self
    }

    /// The `Content-Encoding` header that will be sent (signed when present).
    #[must_use]
    pub fn content_encoding(mut self, value: &'a str) -> Self {
        self.content_encoding = Some(value);
        self
    }

    /// Adds a `purposeId` claim (off by default, as in GovWay; some
    /// erogatori ask for it).
    #[must_use]
    pub fn purpose_id(mut self, purpose: &'a PurposeId) -> Self {
        self.purpose_id = Some(purpose);
        self
    }
}

/// The headers INTEGRITY_REST_02 adds to one request.
#[derive(Clone)]
pub struct IntegrityHeaders {
    digest: Option<String>,
    signature: CompactJws,
    jti: String,
}

impl IntegrityHeaders {
    /// The `Digest` value, when the request has a body.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The `Agid-JWT-Signature` value.
    pub fn signature(&self) -> &CompactJws {
        &self.signature
    }

    /// The signature's `jti` (for logs and replay diagnosis).
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// `(name, value)` pairs to add to the request: `Digest` (if any), then
    /// `Agid-JWT-Signature`.
    pub fn headers(&self) -> Vec<(&'static str, &str)> {
        let mut v = Vec::with_capacity(2);
        if let Some(d) = &self.digest {
            v.push((DIGEST_HEADER, d.as_str()));
        }
        v.push((SIGNATURE_HEADER, self.signature.as_str()));
        v
    }
}

impl fmt::Debug for IntegrityHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntegrityHeaders")
            .field("digest", &self.digest)
            .field("jti", &self.jti)
            .finish_non_exhaustive()
    }
}

/// Who is asking, for AUDIT_REST_02: the operator, the workstation or
/// office, and optionally the level of assurance of their login.
///
/// `Debug` hides the user id (it is often a codice fiscale).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AuditContext {
    user_id: String,
    user_location: String,
    loa: Option<String>,
}

impl AuditContext {
    /// `user_id` (claim `userID`) and `user_location` (claim
    /// `userLocation`; ANPR accepts at most 20 characters, e.g. the codice
    /// IPA of the ente).
    ///
    /// # Errors
    /// [`ModiError::EmptyAuditField`] if either is blank.
    pub fn new(
        user_id: impl Into<String>,
        user_location: impl Into<String>,
    ) -> Result<Self, ModiError> {
        let user_id = user_id.into();
        let user_location = user_location.into();
        if user_id.trim().is_empty() {
            return Err(ModiError::EmptyAuditField { field: "userID" });
        }
        if user_location.trim().is_empty() {
            return Err(ModiError::EmptyAuditField {
                field: "userLocation",
            });
        }
        Ok(Self {
            user_id,
            user_location,
            loa: None,
        })
    }

    /// Adds the `LoA` claim (free text: `LoA3`, `SPID_L2`, `substantial`…).
    #[must_use]
    pub fn with_loa(mut self, loa: impl Into<String>) -> Self {
        self.loa = Some(loa.into());
        self
    }

    /// The `userID` claim.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The `userLocation` claim.
    pub fn user_location(&self) -> &str {
        &self.user_location
    }

    /// The `LoA` claim, if set.
    pub fn loa(&self) -> Option<&str> {
        self.loa.as_deref()
    }

    /// A SHA-256 over the three fields (length-prefixed), to key caches by
    /// audit context without keeping the user id in the key.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut buf = Vec::new();
        for part in [
            Some(self.user_id.as_str()),
            Some(self.user_location.as_str()),
            self.loa.as_deref(),
        ] {
            match part {
                Some(s) => {
                    buf.push(1);
                    buf.extend_from_slice(&(s.len() as u64).to_be_bytes());
                    buf.extend_from_slice(s.as_bytes());
                }
                None => buf.push(0),
            }
        }
        sha256(&buf)
    }
}

impl fmt::Debug for AuditContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditContext")
            .field("user_id", &"<redacted>")
            .field("user_location", &self.user_location)
            .field("loa", &self.loa)
            .finish()
    }
}

/// A signed `Agid-JWT-TrackingEvidence` and its digest.
#[derive(Clone)]
pub struct TrackingEvidence {
    jws: CompactJws,
    digest: AssertionDigest,
    iat: i64,
    exp: i64,
    jti: String,
}

impl TrackingEvidence {
    /// The header value.
    pub fn jws(&self) -> &CompactJws {
        &self.jws
    }

    /// Lower-case hex SHA-256 of the compact JWS: the client assertion's
    /// `digest.value`, which binds the voucher to this evidence.
    pub fn digest(&self) -> &AssertionDigest {
        &self.digest
    }

    /// The `iat` claim.
    pub fn iat(&self) -> i64 {
        self.iat
    }

    /// The `exp` claim.
    pub fn exp(&self) -> i64 {
        self.exp
    }

    /// The `jti` claim.
    pub fn jti(&self) -> &str {
        &self.jti
    }
}

impl fmt::Debug for TrackingEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackingEvidence")
            .field("digest", &self.digest)
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .field("jti", &self.jti)
            .finish_non_exhaustive()
    }
}

/// Signs ModI tokens for one PDND client with one key.
#[derive(Debug, Clone)]
pub struct ModiSigner {
    client_id: ClientId,
    key: Arc<PrivateKey>,
    signature_lifetime: i64,
    tracking_evidence_lifetime: i64,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

#[derive(Serialize)]
struct TrackingPayload<'a> {
    iss: &'a str,
    aud: &'a str,
    #[serde(rename = "purposeId")]
    purpose_id: &'a str,
    jti: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    dnonce: u64,
    #[serde(rename = "userID")]
    user_id: &'a str,
    #[serde(rename = "userLocation")]
    user_location: &'a str,
    #[serde(rename = "LoA", skip_serializing_if = "Option::is_none")]
    loa: Option<&'a str>,
}

/// Serializes `[("name", "value")]` as the single-member object
/// `{"name":"value"}`.
struct OneMember<'a>(&'static str, &'a str);

impl Serialize for OneMember<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.0, self.1)?;
        m.end()
    }
}

fn check_audience(aud: &str) -> Result<&str, ModiError> {
    if aud.is_empty() || aud.contains(|c: char| c.is_whitespace() || c.is_control()) {
        Err(ModiError::Audience)
    } else {
        Ok(aud)
    }
}

fn check_header_value(name: &'static str, value: &str) -> Result<(), ModiError> {
    if value.contains(|c: char| c.is_control()) {
        Err(ModiError::HeaderValue { name })
    } else {
        Ok(())
    }
}

fn check_lifetime(seconds: i64) -> Result<(), ModiError> {
    if (1..=3600).contains(&seconds) {
        Ok(())
    } else {
        Err(ModiError::Lifetime { seconds })
    }
}

/// A random 13-digit number (10^12 ..= 10^13 - 1), GovWay's `dnonce`.
fn dnonce() -> Result<u64, ModiError> {
    let mut b = [0u8; 8];
    random_fill(&mut b).map_err(|_| ModiError::Random)?;
    const LOW: u64 = 1_000_000_000_000;
    const SPAN: u64 = 9_000_000_000_000;
    // The modulo bias over 2^64 is below 10^-6: irrelevant for a nonce.
    Ok(LOW + u64::from_be_bytes(b) % SPAN)
}

impl ModiSigner {
    /// A signer for `client_id` (claims `iss`/`sub`) with `key` (its `kid`
    /// goes in the header; the key must be registered on that PDND client).
    pub fn new(client_id: ClientId, key: Arc<PrivateKey>) -> Self {
        Self {
            client_id,
            key,
            signature_lifetime: DEFAULT_SIGNATURE_LIFETIME,
            tracking_evidence_lifetime: DEFAULT_TRACKING_EVIDENCE_LIFETIME,
        }
    }

    /// Sets `exp - iat` of `Agid-JWT-Signature` tokens (1..=3600 s).
    ///
    /// # Errors
    /// [`ModiError::Lifetime`] outside that range.
    pub fn with_signature_lifetime(mut self, seconds: i64) -> Result<Self, ModiError> {
        check_lifetime(seconds)?;
        self.signature_lifetime = seconds;
        Ok(self)
    }

    /// Sets `exp - iat` of `Agid-JWT-TrackingEvidence` tokens (1..=3600 s).
    ///
    /// # Errors
    /// [`ModiError::Lifetime`] outside that range.
    pub fn with_tracking_evidence_lifetime(mut self, seconds: i64) -> Result<Self, ModiError> {
        check_lifetime(seconds)?;
        self.tracking_evidence_lifetime = seconds;
        Ok(self)
    }

    /// The signing key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    fn header(&self) -> Header<'_> {
        Header {
            alg: "RS256",
            typ: "JWT",
            kid: self.key.kid().as_str(),
        }
    }

    /// `Digest` and `Agid-JWT-Signature` for one request, with a fresh
    /// `jti` and `iat = nbf = now`.
    ///
    /// `signed_headers` is an array of single-member objects, names in lower
    /// case, in the order digest, content-type, content-encoding, holding
    /// exactly the values that must be sent. With none of the three (a
    /// `GET` without content type) the claim is omitted.
    ///
    /// # Errors
    /// [`ModiError`]: bad audience or header value, signing failure.
    pub fn integrity(
        &self,
        request: &IntegrityRequest<'_>,
        clock: &dyn Clock,
    ) -> Result<IntegrityHeaders, ModiError> {
        let aud = check_audience(request.audience)?;
        let digest = request.body.map(digest_header);
        let mut signed: Vec<OneMember<'_>> = Vec::with_capacity(3);
        if let Some(d) = &digest {
            signed.push(OneMember("digest", d));
        }
        if let Some(ct) = request.content_type {
            check_header_value("Content-Type", ct)?;
            signed.push(OneMember("content-type", ct));
        }
        if let Some(ce) = request.content_encoding {
            check_header_value("Content-Encoding", ce)?;
            signed.push(OneMember("content-encoding", ce));
        }
        let iat = clock.now();
        let jti = new_uuid_v4().map_err(|_| ModiError::Random)?;
        let payload = SignaturePayloadRef {
            iss: self.client_id.as_str(),
            sub: self.client_id.as_str(),
            aud,
            iat,
            nbf: iat,
            exp: iat.saturating_add(self.signature_lifetime),
            jti: &jti,
            purpose_id: request.purpose_id.map(PurposeId::as_str),
            signed_headers: signed,
        };
        let signature = sign_rs256(&self.header(), &payload, &self.key)?;
        Ok(IntegrityHeaders {
            digest,
            signature,
            jti,
        })
    }

    /// A signed `Agid-JWT-TrackingEvidence` for `context`, to send with
    /// every call made with the voucher whose assertion carries its
    /// [`TrackingEvidence::digest`].
    ///
    /// # Errors
    /// [`ModiError`]: bad audience, signing or random generator failure.
    pub fn tracking_evidence(
        &self,
        context: &AuditContext,
        purpose_id: &PurposeId,
        audience: &str,
        clock: &dyn Clock,
    ) -> Result<TrackingEvidence, ModiError> {
        let aud = check_audience(audience)?;
        let iat = clock.now();
        let exp = iat.saturating_add(self.tracking_evidence_lifetime);
        let jti = new_uuid_v4().map_err(|_| ModiError::Random)?;
        let payload = TrackingPayload {
            iss: self.client_id.as_str(),
            aud,
            purpose_id: purpose_id.as_str(),
            jti: &jti,
            iat,
            nbf: iat,
            exp,
            dnonce: dnonce()?,
            user_id: &context.user_id,
            user_location: &context.user_location,
            loa: context.loa.as_deref(),
        };
        let jws = sign_rs256(&self.header(), &payload, &self.key)?;
        let digest = AssertionDigest::of(jws.as_str().as_bytes());
        Ok(TrackingEvidence {
            jws,
            digest,
            iat,
            exp,
            jti,
        })
    }
}

#[derive(Serialize)]
struct SignaturePayloadRef<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: &'a str,
    #[serde(rename = "purposeId", skip_serializing_if = "Option::is_none")]
    purpose_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    signed_headers: Vec<OneMember<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dnonce_has_13_digits() {
        for _ in 0..100 {
            let n = dnonce().unwrap();
            assert_eq!(n.to_string().len(), 13, "{n}");
        }
    }

    #[test]
    fn fingerprint_separates_fields() {
        let a = AuditContext::new("ab", "c").unwrap();
        let b = AuditContext::new("a", "bc").unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        let c = a.clone().with_loa("");
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(
            a.fingerprint(),
            AuditContext::new("ab", "c").unwrap().fingerprint()
        );
    }
}
