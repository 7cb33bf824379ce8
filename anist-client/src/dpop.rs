//! DPoP proofs (RFC 9449; protocol reference §2.8): the "voucher DPoP" an
//! e-service may require instead of a Bearer voucher.
//!
//! A proof is a JWS with exactly the header members `typ` (`dpop+jwt`),
//! `alg` (`RS256`) and `jwk` (the public key: `kty`, `n`, `e` only), and the
//! claims `jti`, `htm`, `htu`, `iat`, plus `ath` (the base64url SHA-256 of
//! the voucher) when it goes with a voucher to an e-service. One proof per
//! request: to PDND's token endpoint (`htm` `POST`, `htu` the token URL),
//! then to the e-service with `Authorization: DPoP <voucher>`.
//!
//! The voucher PDND returns is bound to the key: its `cnf.jkt` is the key's
//! RFC 7638 thumbprint, which is also its [`crate::keys::Kid`]. GovWay's
//! advice is a DPoP key distinct from the client-assertion key.
//!
//! ```
//! use anist_client::clock::ManualClock;
//! use anist_client::dpop::DpopProof;
//! use anist_client::jws::decode_unverified;
//! use anist_client::keys::{PrivateKey, RsaBits};
//!
//! let key = PrivateKey::generate(RsaBits::Rsa2048)?;
//! let clock = ManualClock::new(1_764_000_000);
//! let proof = DpopProof::new("POST", "https://auth.interop.pagopa.it/token.oauth2").sign(&key, &clock)?;
//! let d = decode_unverified(proof.as_str())?;
//! assert_eq!(d.header["typ"], "dpop+jwt");
//! assert_eq!(d.payload["htm"], "POST");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use serde_json::{json, Map, Value};

use crate::clock::Clock;
use crate::encoding::{b64url, sha256};
use crate::ids::new_uuid_v4;
use crate::jws::{sign_rs256, CompactJws};
use crate::keys::{KeyError, PrivateKey, PublicKey};

/// The request header carrying a proof.
pub const DPOP_HEADER: &str = "DPoP";
/// The proof's `typ`.
pub const DPOP_TYP: &str = "dpop+jwt";

/// Why a proof could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// The method or URL cannot go in a proof.
    #[error("a DPoP proof cannot be made for {what}: {why}")]
    BadTarget {
        /// `htm` or `htu`.
        what: &'static str,
        /// What is wrong.
        why: &'static str,
    },
    /// No random `jti` could be drawn from the system.
    #[error(
        "the system's secure random generator failed: retry, and check the host's entropy source"
    )]
    Random,
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl ErrorCode for DpopError {
    fn code(&self) -> &'static str {
        match self {
            DpopError::BadTarget { .. } => "dpop_bad_target",
            DpopError::Random => "dpop_random",
            DpopError::Key(k) => k.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            DpopError::BadTarget { .. } => ErrorKind::InvalidArgument,
            DpopError::Random => ErrorKind::Local,
            DpopError::Key(k) => k.kind(),
        }
    }
}

#[doc(hidden)]
impl CodeSamples for DpopError {
    fn samples() -> Vec<Self> {
        let mut v = vec![
            DpopError::BadTarget {
                what: "htm",
                why: "the HTTP method must be letters only, e.g. POST",
            },
            DpopError::Random,
        ];
        v.extend(KeyError::samples().into_iter().map(DpopError::Key));
        v
    }
}

/// The public JWK of a proof header: exactly `kty`, `n`, `e` (PDND refuses
/// any other member).
pub fn proof_jwk(key: &PublicKey) -> Value {
    let full: Map<String, Value> = serde_json::from_str(&key.to_jwk()).unwrap_or_default();
    let mut jwk = Map::new();
    for name in ["kty", "n", "e"] {
        if let Some(v) = full.get(name) {
            jwk.insert(name.to_string(), v.clone());
        }
    }
    Value::Object(jwk)
}

/// `ath`: base64url (no padding) of the SHA-256 of the voucher's ASCII.
pub fn access_token_hash(voucher: &str) -> String {
    b64url(&sha256(voucher.as_bytes()))
}

/// `htu`: the URL without query and fragment (RFC 9449 §4.2).
fn target_uri(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// A proof being built: method and URL of the request it goes with, and
/// the voucher when it goes to an e-service.
#[derive(Clone, PartialEq, Eq)]
pub struct DpopProof {
    htm: String,
    htu: String,
    ath: Option<String>,
}

impl std::fmt::Debug for DpopProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopProof")
            .field("htm", &self.htm)
            .field("htu", &self.htu)
            .field("ath", &self.ath.is_some())
            .finish()
    }
}

impl DpopProof {
    /// A proof for `method` (upper-cased) on `url` (query and fragment
    /// dropped).
    pub fn new(method: &str, url: &str) -> Self {
        Self {
            htm: method.to_ascii_uppercase(),
            htu: target_uri(url).to_string(),
            ath: None,
        }
    }

    /// Binds the proof to `voucher` (claim `ath`), for an e-service call.
    #[must_use]
    pub fn access_token(mut self, voucher: &str) -> Self {
        self.ath = Some(access_token_hash(voucher));
        self
    }

    /// Signs the proof with `key` (RS256), `iat` from `clock` and a fresh
    /// random `jti`.
    ///
    /// # Errors
    /// [`DpopError`] for an empty method or a URL that is not absolute
    /// `http(s)://`, a random generator failure or a signing failure.
    pub fn sign(&self, key: &PrivateKey, clock: &dyn Clock) -> Result<CompactJws, DpopError> {
        if self.htm.is_empty() || !self.htm.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(DpopError::BadTarget {
                what: "htm",
                why: "the HTTP method must be letters only, e.g. POST",
            });
        }
        if !(self.htu.starts_with("https://") || self.htu.starts_with("http://")) {
            return Err(DpopError::BadTarget {
                what: "htu",
                why: "the URL must be absolute http(s)://",
            });
        }
        let header = json!({
            "typ": DPOP_TYP,
            "alg": "RS256",
            "jwk": proof_jwk(key.public_key()),
        });
        let jti = new_uuid_v4().map_err(|_| DpopError::Random)?;
        let mut payload = json!({
            "jti": jti,
            "htm": self.htm,
            "htu": self.htu,
            "iat": clock.now(),
        });
        if let (Some(ath), Some(p)) = (&self.ath, payload.as_object_mut()) {
            p.insert("ath".into(), Value::String(ath.clone()));
        }
        Ok(sign_rs256(&header, &payload, key)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::jws::decode_unverified;
    use crate::keys::RsaBits;

    #[test]
    fn exactly_the_members_of_rfc_9449() {
        let key = PrivateKey::generate(RsaBits::Rsa2048).unwrap();
        let clock = ManualClock::new(1_764_000_000);
        let p = DpopProof::new("post", "https://x.invalid/a/b?q=1#f")
            .access_token("abc")
            .sign(&key, &clock)
            .unwrap();
        let d = decode_unverified(p.as_str()).unwrap();
        let mut h: Vec<&str> = d.header.keys().map(String::as_str).collect();
        h.sort_unstable();
        assert_eq!(h, ["alg", "jwk", "typ"]);
        assert_eq!(d.header["alg"], "RS256");
        let jwk = d.header["jwk"].as_object().unwrap();
        let mut j: Vec<&str> = jwk.keys().map(String::as_str).collect();
        j.sort_unstable();
        assert_eq!(j, ["e", "kty", "n"]);
        let mut c: Vec<&str> = d.payload.keys().map(String::as_str).collect();
        c.sort_unstable();
        assert_eq!(c, ["ath", "htm", "htu", "iat", "jti"]);
        assert_eq!(d.payload["htm"], "POST");
        assert_eq!(d.payload["htu"], "https://x.invalid/a/b");
        assert_eq!(d.payload["iat"], 1_764_000_000);
        // SHA-256("abc"), base64url.
        assert_eq!(
            d.payload["ath"],
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
        assert!(key
            .public_key()
            .verify_rs256(d.signing_input.as_bytes(), &d.signature));
        // The thumbprint of the jwk is the key's kid.
        let again = PublicKey::from_jwk(&d.header["jwk"].to_string()).unwrap();
        assert_eq!(again.kid(), key.kid());
        // Fresh jti each time; no ath without a voucher.
        let q = DpopProof::new("POST", "https://x.invalid/t")
            .sign(&key, &clock)
            .unwrap();
        let e = decode_unverified(q.as_str()).unwrap();
        assert_ne!(e.payload["jti"], d.payload["jti"]);
        assert!(!e.payload.contains_key("ath"));
    }

    #[test]
    fn bad_targets_are_refused() {
        let key = PrivateKey::generate(RsaBits::Rsa2048).unwrap();
        let clock = ManualClock::new(0);
        let e = DpopProof::new("", "https://x.invalid/")
            .sign(&key, &clock)
            .unwrap_err();
        assert_eq!(e.code(), "dpop_bad_target");
        let e = DpopProof::new("GET", "/relative")
            .sign(&key, &clock)
            .unwrap_err();
        assert_eq!(e.code(), "dpop_bad_target");
    }
}
