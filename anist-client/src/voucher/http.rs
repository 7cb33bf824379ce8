//! The HTTP transport of the token request: a [`TokenFetcher`] that builds
//! a client assertion, `POST`s the form to PDND's token endpoint and reads
//! the answer with [`parse_token_response`] (protocol reference §2.3–§2.7,
//! §5).
//!
//! - TLS is rustls with the platform's trust store; a custom CA bundle can
//!   be added ([`HttpOptions::ca_bundle_pem`]) or used alone. There is no
//!   way to turn certificate verification off. Plain `http://` is accepted
//!   only for loopback addresses (the sandbox).
//! - Timeouts default to §5's: connect 10 s, whole request 15 s.
//! - Redirects are not followed: the form carries a credential.
//! - Retries ([`Backoff::token_request`]): 429 after the wait PDND asks for
//!   (`Retry-After` or `X-Rate-Limit-Interval`), 5xx, timeouts and network
//!   failures with exponential backoff and full jitter; never a refusal
//!   (400). Each attempt signs a fresh assertion.
//!
//! ```no_run
//! use std::sync::Arc;
//! use anist_client::clock::SystemClock;
//! use anist_client::env::Environment;
//! use anist_client::ids::{ClientId, PurposeId};
//! use anist_client::keys::PrivateKey;
//! use anist_client::voucher::cache::{VoucherCache, VoucherKey};
//! use anist_client::voucher::http::HttpTokenFetcher;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = Arc::new(PrivateKey::from_file("client.pem", None)?);
//! let endpoints = Environment::Collaudo.endpoints();
//! let fetcher = HttpTokenFetcher::new(endpoints, Arc::clone(&key), Arc::new(SystemClock))?;
//! let cache = VoucherCache::new(fetcher, Arc::new(SystemClock));
//! let voucher_key = VoucherKey::new(
//!     Environment::Collaudo,
//!     ClientId::parse("c9b73ff4-e203-4580-911b-689514d350c2")?,
//!     key.kid().clone(),
//!     PurposeId::parse("ffe23164-4b19-4ac4-8ee3-2a259dc2b81e")?,
//! );
//! let voucher = cache.get(&voucher_key).await?;
//! let _authorization = voucher.voucher().authorization();
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};

use anist_core::ErrorCode;
pub use anist_core::Sent;

pub(crate) use crate::transport::http::{error_chain, transport_allowed};
pub use crate::transport::http::{
    HttpOptions, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT as DEFAULT_TOKEN_TIMEOUT,
};
pub use crate::voucher::token::FetchError;

use crate::clock::Clock;
use crate::dpop::{DpopProof, DPOP_HEADER};
use crate::env::PdndEndpoints;
use crate::keys::PrivateKey;
use crate::modi::{ModiSigner, TrackingEvidence};
use crate::rng::SplitMix64;
use crate::transport::{budget, Backoff};
use crate::voucher::assertion::{AssertionBuilder, DEFAULT_ASSERTION_LIFETIME};
use crate::voucher::cache::{FetchedVoucher, TokenFetcher, VoucherKey};
use crate::voucher::token::{parse_token_response, TokenRequest, TokenResponse, TokenType};

/// Largest token response read, bytes (a voucher is about 1.5 KB).
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

impl FetchError {
    fn from_reqwest(e: &reqwest::Error) -> Self {
        let sent = if e.is_connect() {
            Sent::No
        } else {
            Sent::Maybe
        };
        if e.is_timeout() {
            FetchError::TimedOut { sent }
        } else if e.is_builder() {
            FetchError::NotSent {
                reason: e.to_string(),
            }
        } else {
            FetchError::Network {
                sent,
                reason: error_chain(e),
            }
        }
    }
}

/// The error and its sources, joined (reqwest's top-level message is
/// often just "error sending request").
/// Asks PDND (or the sandbox) for vouchers over HTTPS.
pub struct HttpTokenFetcher {
    http: reqwest::Client,
    endpoints: PdndEndpoints,
    key: Arc<PrivateKey>,
    clock: Arc<dyn Clock>,
    assertion_lifetime: i64,
    retry: Backoff,
    rng: Mutex<SplitMix64>,
    modi_key: Option<Arc<PrivateKey>>,
    evidence_lifetime: Option<i64>,
    dpop_key: Option<Arc<PrivateKey>>,
}

impl fmt::Debug for HttpTokenFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTokenFetcher")
            .field("token_url", &self.endpoints.token_url())
            .field("kid", &self.key.kid())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl HttpTokenFetcher {
    /// A fetcher for `endpoints`, signing assertions with `key`, with the
    /// default [`HttpOptions`] and [`Backoff::token_request`].
    ///
    /// # Errors
    /// [`FetchError::NotSent`] if the token URL is not `https://` (plain
    /// `http://` only to loopback) or the HTTP client cannot be built.
    pub fn new(
        endpoints: PdndEndpoints,
        key: Arc<PrivateKey>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, FetchError> {
        Self::with_options(endpoints, key, clock, &HttpOptions::default())
    }

    /// As [`Self::new`], with explicit HTTP options.
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn with_options(
        endpoints: PdndEndpoints,
        key: Arc<PrivateKey>,
        clock: Arc<dyn Clock>,
        options: &HttpOptions,
    ) -> Result<Self, FetchError> {
        if !transport_allowed(endpoints.token_url()) {
            return Err(FetchError::NotSent {
                reason: format!(
                    "the token URL {} is not https:// (plain http:// is allowed only to loopback)",
                    endpoints.token_url()
                ),
            });
        }
        Ok(Self {
            http: options.build_client()?,
            endpoints,
            key,
            clock,
            assertion_lifetime: DEFAULT_ASSERTION_LIFETIME,
            retry: Backoff::token_request(),
            rng: Mutex::new(SplitMix64::from_entropy()),
            modi_key: None,
            evidence_lifetime: None,
            dpop_key: None,
        })
    }

    /// Signs TrackingEvidences with this key instead of the assertion key
    /// (it must be registered on the same PDND client; assumption U18).
    #[must_use]
    pub fn modi_key(mut self, key: Arc<PrivateKey>) -> Self {
        self.modi_key = Some(key);
        self
    }

    /// Proves possession of this key for DPoP vouchers (keys made with
    /// [`VoucherKey::with_dpop`]): every such token request carries a
    /// `DPoP` proof signed with it, and the voucher is bound to it. Give
    /// the same key to [`crate::call::Caller::dpop_key`]. GovWay advises a
    /// key distinct from the assertion key.
    #[must_use]
    pub fn dpop_key(mut self, key: Arc<PrivateKey>) -> Self {
        self.dpop_key = Some(key);
        self
    }

    /// Sets `exp - iat` of the TrackingEvidences (1..=3600 s, default
    /// [`crate::modi::DEFAULT_TRACKING_EVIDENCE_LIFETIME`]; checked when
    /// one is signed).
    #[must_use]
    pub fn evidence_lifetime(mut self, seconds: i64) -> Self {
        self.evidence_lifetime = Some(seconds);
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn retry_policy(mut self, policy: Backoff) -> Self {
        if let Some(seed) = policy.seed {
            self.rng = Mutex::new(SplitMix64::new(seed));
        }
        self.retry = policy;
        self
    }

    /// Sets `exp - iat` of the assertions (default 300 s).
    #[must_use]
    pub fn assertion_lifetime(mut self, seconds: i64) -> Self {
        self.assertion_lifetime = seconds;
        self
    }

    /// The endpoints used.
    pub fn endpoints(&self) -> &PdndEndpoints {
        &self.endpoints
    }

    /// One attempt, no retry: a fresh assertion, one `POST`. For keys with
    /// an audit context use [`Self::request_once_with_evidence`] (the
    /// voucher is useless without its evidence).
    ///
    /// # Errors
    /// [`FetchError`] saying what happened to the request;
    /// [`FetchError::NotSent`] for a key with an audit context.
    pub async fn request_once(&self, key: &VoucherKey) -> Result<TokenResponse, FetchError> {
        if key.has_audit_context() {
            return Err(FetchError::NotSent {
                reason: "a voucher bound to an audit context needs its TrackingEvidence: use request_once_with_evidence or fetch".into(),
            });
        }
        self.request_once_with_evidence(key).await.map(|(r, _)| r)
    }

    /// One attempt, no retry. For a key made with
    /// [`VoucherKey::with_tracking_evidence`] (AUDIT_REST_02) it first signs
    /// a fresh TrackingEvidence with [`ModiSigner::tracking_evidence`],
    /// puts its SHA-256 in the assertion's `digest`, and returns it with
    /// the answer.
    ///
    /// # Errors
    /// [`FetchError`] saying what happened to the request;
    /// [`FetchError::NotSent`] for a key made with only
    /// [`VoucherKey::with_audit`] (a fingerprint cannot be signed).
    pub async fn request_once_with_evidence(
        &self,
        key: &VoucherKey,
    ) -> Result<(TokenResponse, Option<TrackingEvidence>), FetchError> {
        if key.kid() != self.key.kid() {
            return Err(FetchError::NotSent {
                reason: format!(
                    "the voucher key names kid {}, this fetcher signs with {}",
                    key.kid(),
                    self.key.kid()
                ),
            });
        }
        let evidence = match (key.has_audit_context(), key.evidence()) {
            (false, _) => None,
            (true, None) => {
                return Err(FetchError::NotSent {
                    reason: "the voucher key has only an audit fingerprint (with_audit): build it with with_tracking_evidence so the TrackingEvidence can be signed".into(),
                })
            }
            (true, Some(spec)) => {
                let modi_key = self.modi_key.as_ref().unwrap_or(&self.key);
                let mut signer = ModiSigner::new(key.client_id().clone(), Arc::clone(modi_key));
                if let Some(seconds) = self.evidence_lifetime {
                    signer = signer
                        .with_tracking_evidence_lifetime(seconds)
                        .map_err(|e| FetchError::NotSent {
                            reason: e.to_string(),
                        })?;
                }
                let te = signer
                    .tracking_evidence(
                        spec.context(),
                        key.purpose_id(),
                        spec.audience(),
                        self.clock.as_ref(),
                    )
                    .map_err(|e| FetchError::NotSent {
                        reason: format!("the TrackingEvidence could not be signed: {e}"),
                    })?;
                Some(te)
            }
        };
        let mut builder = AssertionBuilder::new(
            key.client_id().clone(),
            key.purpose_id().clone(),
            &self.endpoints,
        )
        .lifetime(self.assertion_lifetime);
        if let Some(te) = &evidence {
            builder = builder.digest(te.digest().clone());
        }
        let assertion =
            builder
                .build(&self.key, self.clock.as_ref())
                .map_err(|e| FetchError::NotSent {
                    reason: e.to_string(),
                })?;
        let request = TokenRequest::new(key.client_id().clone(), &assertion);
        let mut builder = self.http.post(self.endpoints.token_url());
        for (name, value) in TokenRequest::headers() {
            builder = builder.header(name, value);
        }
        if key.is_dpop() {
            let Some(dpop_key) = &self.dpop_key else {
                return Err(FetchError::NotSent {
                    reason: "the voucher key asks for a DPoP voucher but the fetcher has no DPoP key: set one with HttpTokenFetcher::dpop_key".into(),
                });
            };
            let proof = DpopProof::new("POST", self.endpoints.token_url())
                .sign(dpop_key, self.clock.as_ref())
                .map_err(|e| FetchError::NotSent {
                    reason: format!("the DPoP proof could not be made: {e}"),
                })?;
            builder = builder.header(DPOP_HEADER, proof.as_str());
        }
        let mut response = builder
            .body(request.form_body())
            .send()
            .await
            .map_err(|e| FetchError::from_reqwest(&e))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                        return Err(FetchError::Unparseable {
                            reason: format!(
                                "the response is larger than {MAX_RESPONSE_BYTES} bytes"
                            ),
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(match FetchError::from_reqwest(&e) {
                        FetchError::Network { reason, .. } => FetchError::Network {
                            sent: Sent::Yes,
                            reason,
                        },
                        FetchError::TimedOut { .. } => FetchError::TimedOut { sent: Sent::Yes },
                        other => other,
                    })
                }
            }
        }
        let response = parse_token_response(
            status,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            &body,
        )?;
        if key.is_dpop() && response.voucher.token_type() != TokenType::DPoP {
            return Err(FetchError::Unparseable {
                reason: "a DPoP voucher was asked for and PDND answered token_type Bearer: check that the e-service uses DPoP vouchers".into(),
            });
        }
        Ok((response, evidence))
    }
}

impl TokenFetcher for HttpTokenFetcher {
    type Error = FetchError;

    async fn fetch(&self, key: &VoucherKey) -> Result<FetchedVoucher, FetchError> {
        budget::scoped(self.retry.max_attempts, self.fetch_retrying(key)).await
    }
}

impl HttpTokenFetcher {
    /// [`TokenFetcher::fetch`] under the call's retry budget.
    async fn fetch_retrying(&self, key: &VoucherKey) -> Result<FetchedVoucher, FetchError> {
        let mut attempt = 1;
        loop {
            let error = match self.request_once_with_evidence(key).await {
                Ok((r, Some(te))) => {
                    tracing::debug!(target: "anist::voucher", attempt, "voucher issued");
                    return Ok(FetchedVoucher::with_tracking_evidence(r.voucher, te));
                }
                Ok((r, None)) => {
                    tracing::debug!(target: "anist::voucher", attempt, "voucher issued");
                    return Ok(FetchedVoucher::new(r.voucher));
                }
                Err(e) => e,
            };
            // Why PDND refused the token, for `anist -v` (never the
            // assertion nor a token: the sinks mask them too).
            tracing::info!(
                target: "anist::voucher",
                code = error.code(),
                attempt,
                "token request failed: {error}"
            );
            let delay = {
                let mut rng = self
                    .rng
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if error.is_retryable() {
                    self.retry
                        .delay(attempt, error.retry_after(), &mut |max| rng.up_to(max))
                        .filter(|_| budget::spend())
                } else {
                    None
                }
            };
            match delay {
                Some(d) => self.clock.sleep(d).await,
                None => return Err(error),
            }
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voucher::token::RateLimit;
    use std::time::Duration;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(transport_allowed(
            "https://auth.interop.pagopa.it/token.oauth2"
        ));
        assert!(transport_allowed("http://127.0.0.1:4000/token.oauth2"));
        assert!(transport_allowed("http://localhost/token.oauth2"));
        assert!(transport_allowed("http://[::1]:80/token.oauth2"));
        assert!(!transport_allowed(
            "http://auth.interop.pagopa.it/token.oauth2"
        ));
        assert!(!transport_allowed("http://127.0.0.1.example.org/x"));
        assert!(!transport_allowed("ftp://127.0.0.1/"));
    }

    #[test]
    fn what_the_fetcher_asks_again() {
        let throttled = FetchError::Throttled {
            wait: Duration::from_millis(1000),
            rate: RateLimit::default(),
            problem: Box::default(),
        };
        assert!(throttled.is_retryable());
        assert_eq!(throttled.retry_after(), Some(Duration::from_millis(1000)));
        let server = FetchError::Server {
            status: 503,
            problem: Box::default(),
        };
        assert!(server.is_retryable());
        assert_eq!(server.retry_after(), None);
        // Never: refusals, local errors.
        let refused = FetchError::Refused {
            problem: Box::default(),
        };
        assert!(!refused.is_retryable());
        assert_eq!(refused.code(), "voucher_refused");
        assert_eq!(refused.sent(), Sent::Yes);
        let not_sent = FetchError::NotSent { reason: "x".into() };
        assert_eq!(not_sent.sent(), Sent::No);
        assert!(!not_sent.is_retryable());
    }

    #[test]
    fn quota_is_not_throttling() {
        let limit = br#"{"title":"LimitExceeded","status":429}"#;
        let e = parse_token_response(429, [("Retry-After", "30")], limit).unwrap_err();
        assert_eq!(e.code(), "voucher_quota_exceeded");
        assert_eq!(e.kind(), anist_core::ErrorKind::QuotaExhausted);
        assert!(!e.is_retryable());
        let e = parse_token_response(429, [("X-Rate-Limit-Interval", "250")], b"").unwrap_err();
        assert_eq!(e.retry_after(), Some(Duration::from_millis(250)));
        let e = parse_token_response(
            429,
            [("X-Rate-Limit-Interval", "250"), ("retry-after", "2")],
            b"",
        )
        .unwrap_err();
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(e.kind(), anist_core::ErrorKind::Throttled);
    }
}
