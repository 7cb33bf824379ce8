//! The client assertion: the RS256 JWS a client signs to ask PDND for a
//! voucher (protocol reference §2.2).
//!
//! Since July 2025 PDND refuses any header member other than `alg`, `kid`,
//! `typ` and any claim other than `iss`, `sub`, `aud`, `jti`, `iat`, `exp`,
//! `purposeId`, `digest`. The [`AssertionBuilder`] has no way to add anything
//! else: its output is exactly
//!
//! ```text
//! header  {"alg":"RS256","kid":<thumbprint>,"typ":"JWT"}
//! payload {"iss":<client>,"sub":<client>,"aud":<audience>,"jti":<uuid v4>,
//!          "iat":<now>,"exp":<now+lifetime>,"purposeId":<purpose>
//!          [,"digest":{"alg":"SHA256","value":<64 lower-case hex>}]}
//! ```
//!
//! ```
//! use anist_client::clock::ManualClock;
//! use anist_client::env::Environment;
//! use anist_client::ids::{ClientId, PurposeId};
//! use anist_client::keys::{PrivateKey, RsaBits};
//! use anist_client::voucher::assertion::AssertionBuilder;
//!
//! let key = PrivateKey::generate(RsaBits::Rsa2048)?;
//! let client = ClientId::parse("c9b73ff4-e203-4580-911b-689514d350c2")?;
//! let purpose = PurposeId::parse("ffe23164-4b19-4ac4-8ee3-2a259dc2b81e")?;
//! let assertion = AssertionBuilder::new(client, purpose, &Environment::Collaudo.endpoints())
//!     .build(&key, &ManualClock::new(1_764_000_000))?;
//! assert_eq!(assertion.exp(), 1_764_000_300);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use serde::Serialize;

use crate::clock::Clock;
use crate::env::PdndEndpoints;
use crate::ids::{new_uuid_v4, ClientId, PurposeId};
use crate::jws::{sign_rs256, CompactJws};
use crate::keys::{KeyError, Kid, PrivateKey};

/// Default assertion lifetime (`exp - iat`), in seconds.
pub const DEFAULT_ASSERTION_LIFETIME: i64 = 300;

/// Longest lifetime the builder accepts, in seconds. PDND sets no maximum,
/// but an assertion is a credential: whoever copies it gets vouchers until
/// it expires, and a client that asks on demand never needs long ones.
pub const MAX_ASSERTION_LIFETIME: i64 = 3600;

pub use crate::modi::AssertionDigest;

impl AssertionDigest {
    /// A digest given as 64 hexadecimal characters (any case; stored lower).
    ///
    /// # Errors
    /// [`AssertionError::Digest`] for anything else.
    pub fn from_hex(hex: &str) -> Result<Self, AssertionError> {
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(hex.to_ascii_lowercase()))
        } else {
            Err(AssertionError::Digest)
        }
    }
}

/// Why an assertion could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssertionError {
    /// The audience is empty or has a scheme.
    #[error("the client-assertion audience has no scheme and ends in /client-assertion, e.g. auth.uat.interop.pagopa.it/client-assertion (found {found:?})")]
    Audience {
        /// The refused audience.
        found: String,
    },
    /// The lifetime is not within 1..=3600 seconds.
    #[error("the assertion lifetime must be between 1 and {MAX_ASSERTION_LIFETIME} seconds, found {seconds}")]
    Lifetime {
        /// The refused lifetime.
        seconds: i64,
    },
    /// A digest was not 64 hex characters.
    #[error("the assertion digest is a SHA-256: 64 hexadecimal characters")]
    Digest,
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The system's random generator failed.
    #[error("the system's random generator failed")]
    Random,
}

impl ErrorCode for AssertionError {
    fn code(&self) -> &'static str {
        match self {
            AssertionError::Audience { .. } => "assertion_audience",
            AssertionError::Lifetime { .. } => "assertion_lifetime",
            AssertionError::Digest => "assertion_digest",
            AssertionError::Key(k) => k.code(),
            AssertionError::Random => "random_failure",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            AssertionError::Audience { .. }
            | AssertionError::Lifetime { .. }
            | AssertionError::Digest => ErrorKind::Config,
            AssertionError::Key(k) => k.kind(),
            AssertionError::Random => ErrorKind::Local,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for AssertionError {
    fn samples() -> Vec<Self> {
        let mut v = vec![
            AssertionError::Audience {
                found: "https://auth.uat.interop.pagopa.it".into(),
            },
            AssertionError::Lifetime { seconds: 0 },
            AssertionError::Digest,
            AssertionError::Random,
        ];
        v.extend(KeyError::samples().into_iter().map(AssertionError::Key));
        v
    }
}

/// Builds client assertions for one client and purpose.
#[derive(Debug, Clone)]
pub struct AssertionBuilder {
    client_id: ClientId,
    purpose_id: PurposeId,
    audience: String,
    lifetime: i64,
    digest: Option<AssertionDigest>,
}

impl AssertionBuilder {
    /// An assertion for `client_id` and `purpose_id`, addressed to the
    /// assertion audience of `endpoints`, valid [`DEFAULT_ASSERTION_LIFETIME`]
    /// seconds, without digest.
    pub fn new(client_id: ClientId, purpose_id: PurposeId, endpoints: &PdndEndpoints) -> Self {
        Self {
            client_id,
            purpose_id,
            audience: endpoints.assertion_audience().to_string(),
            lifetime: DEFAULT_ASSERTION_LIFETIME,
            digest: None,
        }
    }

    /// Sets `exp - iat` in seconds (1..=3600, checked by [`Self::build`]).
    #[must_use]
    pub fn lifetime(mut self, seconds: i64) -> Self {
        self.lifetime = seconds;
        self
    }

    /// Binds the voucher to `digest` (AUDIT_REST_02: the SHA-256 of the
    /// TrackingEvidence that will accompany the calls).
    #[must_use]
    pub fn digest(mut self, digest: AssertionDigest) -> Self {
        self.digest = Some(digest);
        self
    }

    /// Signs a fresh assertion (new `jti`, `iat` = now) with `key`.
    ///
    /// # Errors
    /// [`AssertionError`]: bad audience or lifetime, signing or random
    /// generator failure.
    pub fn build(
        &self,
        key: &PrivateKey,
        clock: &dyn Clock,
    ) -> Result<ClientAssertion, AssertionError> {
        let aud = self.audience.trim();
        if aud.is_empty() || aud.contains("://") || aud.contains(char::is_whitespace) {
            return Err(AssertionError::Audience {
                found: self.audience.clone(),
            });
        }
        if !(1..=MAX_ASSERTION_LIFETIME).contains(&self.lifetime) {
            return Err(AssertionError::Lifetime {
                seconds: self.lifetime,
            });
        }
        let iat = clock.now();
        let exp = iat.saturating_add(self.lifetime);
        let jti = new_uuid_v4().map_err(|_| AssertionError::Random)?;
        let header = Header {
            alg: "RS256",
            kid: key.kid().as_str(),
            typ: "JWT",
        };
        let payload = Payload {
            iss: self.client_id.as_str(),
            sub: self.client_id.as_str(),
            aud,
            jti: &jti,
            iat,
            exp,
            purpose_id: self.purpose_id.as_str(),
            digest: self.digest.as_ref().map(|d| DigestClaim {
                alg: "SHA256",
                value: d.as_hex(),
            }),
        };
        let jws = sign_rs256(&header, &payload, key)?;
        Ok(ClientAssertion {
            jws,
            jti,
            iat,
            exp,
            kid: key.kid().clone(),
        })
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    kid: &'a str,
    typ: &'static str,
}

#[derive(Serialize)]
struct Payload<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: &'a str,
    iat: i64,
    exp: i64,
    #[serde(rename = "purposeId")]
    purpose_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<DigestClaim<'a>>,
}

#[derive(Serialize)]
struct DigestClaim<'a> {
    alg: &'static str,
    value: &'a str,
}

/// A signed client assertion. `Debug` shows its `jti`, times and `kid`,
/// never the token.
#[derive(Clone)]
pub struct ClientAssertion {
    jws: CompactJws,
    jti: String,
    iat: i64,
    exp: i64,
    kid: Kid,
}

impl ClientAssertion {
    /// The compact JWS: the `client_assertion` form field.
    pub fn jws(&self) -> &CompactJws {
        &self.jws
    }

    /// The `jti` claim.
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The `iat` claim.
    pub fn iat(&self) -> i64 {
        self.iat
    }

    /// The `exp` claim.
    pub fn exp(&self) -> i64 {
        self.exp
    }

    /// The `kid` header member.
    pub fn kid(&self) -> &Kid {
        &self.kid
    }
}

impl fmt::Debug for ClientAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAssertion")
            .field("jti", &self.jti)
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .field("kid", &self.kid.as_str())
            .finish_non_exhaustive()
    }
}
