//! One JSON `POST` to an e-service through its GovWay gateway, with every
//! ModI header its profile needs (protocol reference §3, §4, §5):
//!
//! - `Authorization: Bearer <voucher>` from the shared [`VoucherCache`];
//! - INTEGRITY_REST_02: `Digest` over the exact bytes sent and
//!   `Agid-JWT-Signature` signing it with `Content-Type` (and
//!   `Content-Encoding` if the profile sends one), fresh `jti` per attempt;
//! - AUDIT_REST_02: the `Agid-JWT-TrackingEvidence` the voucher is bound
//!   to (the voucher key must be made with
//!   [`VoucherKey::with_tracking_evidence`]).
//!
//! A 401 from the gateway drops the voucher and retries once with a new
//! one; `429 TooManyRequests` is retried after its `Retry-After` (at most
//! [`Backoff::gateway_throttling`]); nothing else is retried here.
//! Gateway errors keep `govway_id` and the problem title ([`CallError`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use anist_client::call::{Caller, ServiceProfile};
//! use anist_client::clock::SystemClock;
//! use anist_client::env::Environment;
//! use anist_client::ids::{ClientId, PurposeId};
//! use anist_client::keys::PrivateKey;
//! use anist_client::modi::{AuditContext, ModiSigner};
//! use anist_client::voucher::cache::{VoucherCache, VoucherKey};
//! use anist_client::voucher::http::HttpTokenFetcher;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = Arc::new(PrivateKey::from_file("client.pem", None)?);
//! let client = ClientId::parse("c9b73ff4-e203-4580-911b-689514d350c2")?;
//! let fetcher = HttpTokenFetcher::new(Environment::Collaudo.endpoints(), Arc::clone(&key), Arc::new(SystemClock))?;
//! let cache = Arc::new(VoucherCache::new(fetcher, Arc::new(SystemClock)));
//! let caller = Caller::new(cache, ModiSigner::new(client.clone(), Arc::clone(&key)), Arc::new(SystemClock))?;
//! let audience = "https://modipa-val.example.invalid/govway/rest/in/Ente/servizio/v1";
//! let profile = ServiceProfile::new(audience, audience).audit(true);
//! let voucher_key = VoucherKey::new(
//!     Environment::Collaudo,
//!     client,
//!     key.kid().clone(),
//!     PurposeId::parse("ffe23164-4b19-4ac4-8ee3-2a259dc2b81e")?,
//! )
//! .with_tracking_evidence(&AuditContext::new("operatore-42", "c_h501")?, audience);
//! let answer = caller.post_json(&profile, &voucher_key, "operazione", br#"{"a":1}"#).await?;
//! let _json: serde_json::Value = answer.json()?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use serde_json::Value;

use crate::clock::Clock;
use crate::dpop::{DpopProof, DPOP_HEADER};
use crate::keys::PrivateKey;
use crate::modi::{IntegrityRequest, ModiSigner, TRACKING_EVIDENCE_HEADER};
use crate::ratelimit::RateLimiter;
use crate::rng::SplitMix64;
use crate::transport::{budget, Backoff};
use crate::transport::{transport_allowed, HttpOptions};
use crate::voucher::cache::{CachedVoucher, TokenFetcher, VoucherCache, VoucherKey};
use crate::voucher::token::FetchError;
use anist_core::Sent;

/// Default timeout of one e-service call (§5: REST e-service 30 s).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest e-service answer read, bytes.
pub const MAX_CALL_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// The body type of [`Caller::post_json`].
pub const JSON: &str = "application/json";

/// Headers [`Caller::post`] sets itself and refuses among the extra ones.
const RESERVED_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "accept",
    "content-encoding",
    "content-length",
    "digest",
    "dpop",
    "host",
];

/// A request body with its media type and the media type asked back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Body<'a> {
    /// The exact bytes sent (and digested under INTEGRITY_REST_02).
    pub bytes: &'a [u8],
    /// `Content-Type` (e.g. `text/xml; charset=utf-8`).
    pub content_type: &'a str,
    /// `Accept`.
    pub accept: &'a str,
}

impl<'a> Body<'a> {
    /// `bytes` of type `content_type`, accepting the same type back.
    pub fn new(bytes: &'a [u8], content_type: &'a str) -> Self {
        Self {
            bytes,
            content_type,
            accept: content_type,
        }
    }

    /// A JSON body ([`JSON`] both ways).
    pub fn json(bytes: &'a [u8]) -> Self {
        Self::new(bytes, JSON)
    }

    /// Asks for `accept` back.
    #[must_use]
    pub fn accept(mut self, accept: &'a str) -> Self {
        self.accept = accept;
        self
    }
}

/// What differs between e-services, as far as one call is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProfile {
    url: String,
    audience: String,
    integrity: bool,
    audit: bool,
    content_encoding: Option<String>,
    dpop: bool,
    operation: Option<String>,
    soap_action: Option<String>,
}

impl ServiceProfile {
    /// An e-service whose gateway URL (up to and including the version,
    /// e.g. `https://…/govway/rest/in/<erogatore>/<service>/v1`) is `url`
    /// and whose ModI audience is `audience` (by default the voucher
    /// audience, assumption U5). INTEGRITY_REST_02 on, AUDIT_REST_02 off,
    /// no `Content-Encoding`.
    pub fn new(url: &str, audience: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_string(),
            audience: audience.to_string(),
            integrity: true,
            audit: false,
            content_encoding: None,
            dpop: false,
            operation: None,
            soap_action: None,
        }
    }

    /// The operation name to use instead of the client's default (SOAP
    /// e-services such as INPS ISEE: the `<Operation>` of the URL suffix and
    /// of the body element; assumption U11).
    #[must_use]
    pub fn operation(mut self, operation: Option<&str>) -> Self {
        self.operation = operation
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty());
        self
    }

    /// The configured operation name, if any.
    pub fn operation_name(&self) -> Option<&str> {
        self.operation.as_deref()
    }

    /// The whole `SOAPAction` to send instead of the client's default
    /// (without the quotes, which are added on the wire).
    #[must_use]
    pub fn soap_action(mut self, action: Option<&str>) -> Self {
        self.soap_action = action
            .map(|a| a.trim().trim_matches('"').to_string())
            .filter(|a| !a.is_empty());
        self
    }

    /// The configured `SOAPAction`, if any.
    pub fn soap_action_value(&self) -> Option<&str> {
        self.soap_action.as_deref()
    }

    /// The e-service takes DPoP vouchers (RFC 9449): `Authorization: DPoP
    /// <voucher>` and a fresh `DPoP` proof (with `ath`) on every request.
    /// The voucher key must be made with [`VoucherKey::with_dpop`] and the
    /// caller given the DPoP key ([`Caller::dpop_key`]).
    #[must_use]
    pub fn dpop(mut self, on: bool) -> Self {
        self.dpop = on;
        self
    }

    /// Whether the e-service takes DPoP vouchers.
    pub fn has_dpop(&self) -> bool {
        self.dpop
    }

    /// Sends `Digest` + `Agid-JWT-Signature`.
    #[must_use]
    pub fn integrity(mut self, on: bool) -> Self {
        self.integrity = on;
        self
    }

    /// Sends `Agid-JWT-TrackingEvidence` (the voucher key needs an
    /// evidence spec).
    #[must_use]
    pub fn audit(mut self, on: bool) -> Self {
        self.audit = on;
        self
    }

    /// Sends (and signs) this `Content-Encoding`, e.g. `UTF-8` as IDPAY
    /// and OMSP do.
    #[must_use]
    pub fn content_encoding(mut self, value: Option<&str>) -> Self {
        self.content_encoding = value.map(str::to_string);
        self
    }

    /// The gateway URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The ModI audience.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Whether INTEGRITY_REST_02 applies.
    pub fn has_integrity(&self) -> bool {
        self.integrity
    }

    /// Whether AUDIT_REST_02 applies.
    pub fn has_audit(&self) -> bool {
        self.audit
    }
}

/// A GovWay error answer (RFC 7807 body and `GovWay-Transaction-*`
/// headers), read leniently: whatever is missing stays `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayProblem {
    /// The HTTP status.
    pub status: u16,
    /// `title`: GovWay's error code (`InteroperabilityInvalidRequest`,
    /// `LimitExceeded`…), or the `GovWay-Transaction-ErrorType` header.
    pub title: Option<String>,
    /// `detail`.
    pub detail: Option<String>,
    /// `type`.
    pub problem_type: Option<String>,
    /// `govway_id`, or the `GovWay-Transaction-ID` header: quote it to the
    /// erogatore's support.
    pub govway_id: Option<String>,
    /// `Retry-After`, when sent.
    pub retry_after: Option<Duration>,
    /// `X-RateLimit-Reset`, when sent.
    pub rate_limit_reset: Option<Duration>,
    /// `faultcode` of a SOAP 1.1 fault (`SOAP-ENV:Server.APIUnavailable`,
    /// `SOAP-ENV:Client.LimitExceeded`…), when the answer is one.
    pub fault_code: Option<String>,
    /// `faultstring` of a SOAP 1.1 fault.
    pub fault_string: Option<String>,
    /// The body, when it is a JSON object that is not an RFC 7807 problem
    /// (no `title`, `type` nor `detail`): the service's own error answer
    /// (e.g. ANPR's `RispostaKO` on 400 / 404 / 500), for its codec.
    pub service_body: Option<ServiceBody>,
}

/// The body of a service's own error answer ([`GatewayProblem::service_body`]).
/// It may hold personal data: `Debug` shows its length only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ServiceBody(pub Vec<u8>);

impl fmt::Debug for ServiceBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceBody({} bytes)", self.0.len())
    }
}

/// `Server.APIUnavailable` → `APIUnavailable` (any prefix, SOAP 1.1 dotted
/// fault codes).
fn fault_code_title(code: &str) -> Option<String> {
    let local = code.rsplit(':').next().unwrap_or(code);
    let title = local.split_once('.').map_or("", |(_, t)| t).trim();
    (!title.is_empty()).then(|| title.to_string())
}

fn short(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(500).collect()
}

impl GatewayProblem {
    /// Reads a gateway answer. Never fails: the body is read as an RFC 7807
    /// JSON object, else as a SOAP 1.1 fault (GovWay's SOAP errors,
    /// protocol reference §4.2: `faultcode`, `faultstring` and the RFC 7807
    /// `problem` in `detail`; without a `problem` title, the title is the
    /// part of `faultcode` after `Server.` / `Client.`); anything else
    /// leaves the body fields empty.
    pub fn parse<'a>(
        status: u16,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
        body: &[u8],
    ) -> Self {
        let mut p = GatewayProblem {
            status,
            ..Self::default()
        };
        let mut header_id = None;
        let mut header_type = None;
        for (name, value) in headers {
            let secs = || value.trim().parse::<u64>().ok().map(Duration::from_secs);
            if name.eq_ignore_ascii_case("govway-transaction-id") {
                header_id = Some(short(value));
            } else if name.eq_ignore_ascii_case("govway-transaction-errortype") {
                header_type = Some(short(value));
            } else if name.eq_ignore_ascii_case("retry-after") {
                p.retry_after = secs();
            } else if name.eq_ignore_ascii_case("x-ratelimit-reset") {
                p.rate_limit_reset = secs();
            }
        }
        if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) {
            let text = |k: &str| m.get(k).and_then(Value::as_str).map(short);
            p.title = text("title");
            p.detail = text("detail");
            p.problem_type = text("type");
            p.govway_id = text("govway_id");
            if p.title.is_none() && p.detail.is_none() && p.problem_type.is_none() {
                p.service_body = Some(ServiceBody(body.to_vec()));
            }
        } else if let Some(fault) = crate::soap::parse_fault(body) {
            p.title = fault
                .problem_title
                .or_else(|| fault.code.as_deref().and_then(fault_code_title))
                .map(|t| short(&t));
            p.detail = fault.problem_detail.map(|t| short(&t));
            p.problem_type = fault.problem_type.map(|t| short(&t));
            p.govway_id = fault.govway_id.map(|t| short(&t));
            p.fault_code = fault.code.map(|t| short(&t));
            p.fault_string = fault.string.map(|t| short(&t));
        }
        p.title = p.title.or(header_type);
        p.govway_id = p.govway_id.or(header_id);
        p
    }

    fn title_is(&self, t: &str) -> bool {
        self.title.as_deref() == Some(t)
    }
}

/// What happened to a call that gave no answer to use. Every variant has
/// a stable [`ErrorCode::code`]; messages never carry a token or the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The call was not sent (bad URL, profile and key disagree, signing
    /// failed…).
    #[error("the e-service call was not sent: {reason}")]
    NotSent {
        /// Why.
        reason: String,
    },
    /// No voucher could be obtained.
    #[error(transparent)]
    Voucher(#[from] FetchError),
    /// The gateway refused the call (400, 401 after one renewal, 403, 404,
    /// 409…). Not retryable as is.
    #[error("the gateway refused the call: {} {} (govway_id {})", .problem.status, .problem.title.as_deref().unwrap_or("(no title)"), .problem.govway_id.as_deref().unwrap_or("absent"))]
    Refused {
        /// The gateway's problem.
        problem: Box<GatewayProblem>,
    },
    /// 429 `LimitExceeded`: the quota is exhausted until its window resets.
    /// Not retryable.
    #[error("the e-service quota is exhausted{} (govway_id {})", .reset.map(|r| format!("; it resets in {} s", r.as_secs())).unwrap_or_default(), .problem.govway_id.as_deref().unwrap_or("absent"))]
    QuotaExceeded {
        /// When the quota resets, if said (`X-RateLimit-Reset`).
        reset: Option<Duration>,
        /// The gateway's problem.
        problem: Box<GatewayProblem>,
    },
    /// 429 `TooManyRequests`: retryable after `wait`.
    #[error("the gateway throttled the call: retry after {} ms (govway_id {})", .wait.as_millis(), .problem.govway_id.as_deref().unwrap_or("absent"))]
    Throttled {
        /// How long to wait (`Retry-After`, or 1 s when absent).
        wait: Duration,
        /// The gateway's problem.
        problem: Box<GatewayProblem>,
    },
    /// 5xx from the gateway or the service behind it.
    #[error("the gateway answered {} {} (govway_id {})", .problem.status, .problem.title.as_deref().unwrap_or("(no title)"), .problem.govway_id.as_deref().unwrap_or("absent"))]
    Server {
        /// The gateway's problem.
        problem: Box<GatewayProblem>,
    },
    /// No answer in time.
    #[error("the e-service call timed out ({})", match .sent { Sent::No => "while connecting: not sent", _ => "it may have been processed" })]
    TimedOut {
        /// Whether it may have reached the service.
        sent: Sent,
    },
    /// The connection failed.
    #[error("the e-service call failed on the network: {reason}")]
    Network {
        /// Whether it may have reached the service.
        sent: Sent,
        /// The transport's reason.
        reason: String,
    },
    /// An answer that cannot be read: too large, a status the protocol
    /// does not foresee, or a body that is not what was expected.
    #[error("the e-service answer could not be read (status {status}): {reason}")]
    Unparseable {
        /// The status.
        status: u16,
        /// What is wrong.
        reason: String,
    },
}

impl ErrorCode for CallError {
    fn code(&self) -> &'static str {
        match self {
            CallError::NotSent { .. } => "call_not_sent",
            CallError::Voucher(e) => e.code(),
            CallError::Refused { .. } => "gateway_refused",
            CallError::QuotaExceeded { .. } => "gateway_quota_exceeded",
            CallError::Throttled { .. } => "gateway_throttled",
            CallError::Server { .. } => "gateway_server_error",
            CallError::TimedOut { .. } => "gateway_timeout",
            CallError::Network { .. } => "gateway_network",
            CallError::Unparseable { .. } => "gateway_unparseable",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            CallError::NotSent { .. } => ErrorKind::NotSent,
            CallError::Voucher(e) => e.kind(),
            CallError::Refused { .. } => ErrorKind::Refused,
            CallError::QuotaExceeded { .. } => ErrorKind::QuotaExhausted,
            CallError::Throttled { .. } => ErrorKind::Throttled,
            CallError::Server { .. } => ErrorKind::ServerError,
            CallError::TimedOut { .. } => ErrorKind::TimedOut,
            CallError::Network { .. } => ErrorKind::Network,
            CallError::Unparseable { .. } => ErrorKind::UnexpectedAnswer,
        }
    }

    /// Always `Some`: whether the e-service call was sent ([`CallError::sent`];
    /// a call whose voucher could not be had was not).
    fn request_sent(&self) -> Option<anist_core::Sent> {
        Some(self.sent())
    }

    /// The wait the gateway asked for when it throttled the call, or when its
    /// exhausted quota resets; PDND's, for the voucher request.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::Voucher(e) => ErrorCode::retry_after(e),
            CallError::QuotaExceeded { reset, .. } => *reset,
            CallError::Throttled { wait, .. } => Some(*wait),
            _ => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for CallError {
    fn samples() -> Vec<Self> {
        let problem = |status: u16, title: &str| {
            Box::new(GatewayProblem {
                status,
                title: Some(title.to_string()),
                govway_id: Some("00000000-0000-0000-0000-000000000000".into()),
                ..GatewayProblem::default()
            })
        };
        vec![
            CallError::NotSent {
                reason: "the URL is not https".into(),
            },
            // FetchError's own samples are in voucher::http.
            CallError::Voucher(FetchError::NotSent {
                reason: "the assertion could not be signed".into(),
            }),
            CallError::Refused {
                problem: problem(403, "AuthorizationDeny"),
            },
            CallError::QuotaExceeded {
                reset: Some(Duration::from_secs(3600)),
                problem: problem(429, "LimitExceeded"),
            },
            CallError::Throttled {
                wait: Duration::from_secs(2),
                problem: problem(429, "TooManyRequests"),
            },
            CallError::Server {
                problem: problem(503, "APIUnavailable"),
            },
            CallError::TimedOut { sent: Sent::Maybe },
            CallError::Network {
                sent: Sent::No,
                reason: "connection refused".into(),
            },
            CallError::Unparseable {
                status: 200,
                reason: "not JSON".into(),
            },
        ]
    }
}

impl CallError {
    /// The gateway's problem, when it answered with one.
    pub fn problem(&self) -> Option<&GatewayProblem> {
        match self {
            CallError::Refused { problem }
            | CallError::QuotaExceeded { problem, .. }
            | CallError::Throttled { problem, .. }
            | CallError::Server { problem } => Some(problem),
            _ => None,
        }
    }

    /// The gateway's transaction id (`govway_id`), when it sent one.
    pub fn govway_id(&self) -> Option<&str> {
        self.problem().and_then(|p| p.govway_id.as_deref())
    }

    /// The problem title (GovWay's error code), when there is one.
    pub fn title(&self) -> Option<&str> {
        self.problem().and_then(|p| p.title.as_deref())
    }

    /// Whether the call was sent.
    pub fn sent(&self) -> Sent {
        match self {
            CallError::NotSent { .. } | CallError::Voucher(_) => Sent::No,
            CallError::TimedOut { sent } | CallError::Network { sent, .. } => *sent,
            _ => Sent::Yes,
        }
    }

    /// Whether trying again later may succeed (§5): throttling, 502/503/
    /// 504, timeouts and network failures (for idempotent operations
    /// only), and retryable voucher failures. Refusals and quota are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            CallError::Throttled { .. }
            | CallError::TimedOut { .. }
            | CallError::Network { .. } => true,
            CallError::Server { problem } => matches!(problem.status, 502..=504),
            CallError::Voucher(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// Classifies a gateway error answer (status ≥ 300).
    pub fn from_answer(problem: GatewayProblem) -> Self {
        let problem = Box::new(problem);
        match problem.status {
            429 if problem.title_is("LimitExceeded") => CallError::QuotaExceeded {
                reset: problem.rate_limit_reset,
                problem,
            },
            // TooManyRequests, or a bare 429 that asks to wait, is throttling.
            429 if problem.title_is("TooManyRequests") || problem.retry_after.is_some() => {
                CallError::Throttled {
                    wait: problem.retry_after.unwrap_or(Duration::from_secs(1)),
                    problem,
                }
            }
            // A bare 429 without a wait: a quota (assumption U15).
            429 => CallError::QuotaExceeded {
                reset: problem.rate_limit_reset,
                problem,
            },
            400..=499 => CallError::Refused { problem },
            500..=599 => CallError::Server { problem },
            status => CallError::Unparseable {
                status,
                reason: format!("unexpected status {status}"),
            },
        }
    }
}

/// A successful answer.
#[derive(Clone)]
pub struct CallResponse {
    status: u16,
    govway_id: Option<String>,
    location: Option<String>,
    body: Vec<u8>,
    attempts: u32,
}

impl fmt::Debug for CallResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallResponse")
            .field("status", &self.status)
            .field("govway_id", &self.govway_id)
            .field("body_bytes", &self.body.len())
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl CallResponse {
    /// The status (2xx, or 303 for a `GET`).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// `GovWay-Transaction-ID`, when sent.
    pub fn govway_id(&self) -> Option<&str> {
        self.govway_id.as_deref()
    }

    /// The `Location` header, when sent (`202 Accepted` and `303 See
    /// Other` of the ModI NONBLOCK_PULL pattern).
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// How many requests were sent (1, or more after a renewal or a
    /// throttling wait).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The body as JSON.
    ///
    /// # Errors
    /// [`CallError::Unparseable`] when it is not.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, CallError> {
        serde_json::from_slice(&self.body).map_err(|e| CallError::Unparseable {
            status: self.status,
            reason: format!("the body is not the expected JSON: {e}"),
        })
    }
}

/// Sends e-service calls with vouchers from a shared cache and ModI
/// headers signed by one [`ModiSigner`].
pub struct Caller<F: TokenFetcher<Error = FetchError>> {
    http: reqwest::Client,
    cache: Arc<VoucherCache<F>>,
    signer: ModiSigner,
    clock: Arc<dyn Clock>,
    throttle: Backoff,
    rng: Mutex<SplitMix64>,
    limiter: Option<Arc<RateLimiter>>,
    dpop_key: Option<Arc<PrivateKey>>,
}

impl<F: TokenFetcher<Error = FetchError>> fmt::Debug for Caller<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller")
            .field("cache", &self.cache)
            .field("signer_kid", &self.signer.key().kid())
            .field("throttle", &self.throttle)
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

fn from_reqwest(e: &reqwest::Error, body_started: bool) -> CallError {
    let sent = if body_started {
        Sent::Yes
    } else if e.is_connect() {
        Sent::No
    } else {
        Sent::Maybe
    };
    if e.is_timeout() {
        CallError::TimedOut { sent }
    } else {
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason.push_str(": ");
            reason.push_str(&s.to_string());
            source = s.source();
        }
        CallError::Network { sent, reason }
    }
}

impl<F: TokenFetcher<Error = FetchError>> Caller<F> {
    /// A caller with the default HTTP options (timeout
    /// [`DEFAULT_CALL_TIMEOUT`]) and [`Backoff::gateway_throttling`].
    ///
    /// # Errors
    /// [`CallError::NotSent`] if the HTTP client cannot be built.
    pub fn new(
        cache: Arc<VoucherCache<F>>,
        signer: ModiSigner,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CallError> {
        Self::with_options(
            cache,
            signer,
            clock,
            &HttpOptions::default().timeout(DEFAULT_CALL_TIMEOUT),
        )
    }

    /// As [`Self::new`], with explicit HTTP options.
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn with_options(
        cache: Arc<VoucherCache<F>>,
        signer: ModiSigner,
        clock: Arc<dyn Clock>,
        options: &HttpOptions,
    ) -> Result<Self, CallError> {
        let http = options.build_client().map_err(|e| CallError::NotSent {
            reason: e.to_string(),
        })?;
        Ok(Self {
            http,
            cache,
            signer,
            clock,
            throttle: Backoff::gateway_throttling(),
            rng: Mutex::new(SplitMix64::from_entropy()),
            limiter: None,
            dpop_key: None,
        })
    }

    /// Signs the `DPoP` proofs of DPoP e-services with this key (the one
    /// given to [`crate::voucher::http::HttpTokenFetcher::dpop_key`]).
    #[must_use]
    pub fn dpop_key(mut self, key: Arc<PrivateKey>) -> Self {
        self.dpop_key = Some(key);
        self
    }

    /// Paces every request (the first and each retry) with `limiter`,
    /// shared with whatever else spends the same budget. A `429
    /// TooManyRequests` with `Retry-After` pauses the limiter for that
    /// long, so that every task sharing it waits, not only the throttled
    /// one.
    #[must_use]
    pub fn rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Sets how throttling is retried (attempts in all, the longest
    /// `Retry-After` honoured, the seed of the jitter).
    #[must_use]
    pub fn throttle_policy(mut self, policy: Backoff) -> Self {
        if let Some(seed) = policy.seed {
            self.rng = Mutex::new(SplitMix64::new(seed));
        }
        self.throttle = policy;
        self
    }

    /// The clock the calls are signed and their retries waited by.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The voucher cache.
    pub fn cache(&self) -> &VoucherCache<F> {
        &self.cache
    }

    /// `POST <profile url>/<operation>` with `body` (exact JSON bytes,
    /// sent and digested as they are), the voucher of `key` and the
    /// profile's ModI headers.
    ///
    /// # Errors
    /// [`CallError`], saying what happened to the call.
    pub async fn post_json(
        &self,
        profile: &ServiceProfile,
        key: &VoucherKey,
        operation: &str,
        body: &[u8],
    ) -> Result<CallResponse, CallError> {
        self.request(profile, key, operation, Some(&Body::json(body)), &[])
            .await
    }

    /// `POST <profile url>/<operation>` (`<profile url>` itself when
    /// `operation` is empty) with `body` in its media type, the voucher of
    /// `key`, the profile's ModI headers and `headers` (e.g. `SOAPAction`).
    /// `headers` may not name one the call sets itself (`Authorization`,
    /// `Content-Type`, `Accept`, `Content-Encoding`, `Digest`, `DPoP`,
    /// `Agid-JWT-*`): such a call is not sent.
    ///
    /// # Errors
    /// [`CallError`], saying what happened to the call.
    pub async fn post(
        &self,
        profile: &ServiceProfile,
        key: &VoucherKey,
        operation: &str,
        body: &Body<'_>,
        headers: &[(&str, &str)],
    ) -> Result<CallResponse, CallError> {
        self.request(profile, key, operation, Some(body), headers)
            .await
    }

    /// `GET <profile url>/<path>` with the voucher of `key` and the
    /// profile's ModI headers (an `Agid-JWT-Signature` without `Digest`:
    /// there is no body). `303 See Other` is an answer, not an error: its
    /// [`CallResponse::location`] says where to go next (ModI
    /// NONBLOCK_PULL), and following it is the caller's choice, with
    /// fresh headers.
    ///
    /// # Errors
    /// [`CallError`], saying what happened to the call.
    pub async fn get(
        &self,
        profile: &ServiceProfile,
        key: &VoucherKey,
        path: &str,
    ) -> Result<CallResponse, CallError> {
        self.request(profile, key, path, None, &[]).await
    }

    async fn request(
        &self,
        profile: &ServiceProfile,
        key: &VoucherKey,
        operation: &str,
        body: Option<&Body<'_>>,
        headers: &[(&str, &str)],
    ) -> Result<CallResponse, CallError> {
        let operation = operation.trim_start_matches('/');
        let url = if operation.is_empty() {
            profile.url.clone()
        } else {
            format!("{}/{operation}", profile.url)
        };
        for (name, value) in headers {
            if RESERVED_HEADERS
                .iter()
                .any(|r| name.eq_ignore_ascii_case(r))
                || name.to_ascii_lowercase().starts_with("agid-jwt-")
            {
                return Err(CallError::NotSent {
                    reason: format!("the header `{}` is set by the call itself: remove it from the extra headers", short(name)),
                });
            }
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err()
                || reqwest::header::HeaderValue::from_str(value).is_err()
            {
                return Err(CallError::NotSent {
                    reason: format!("the header `{}` cannot be sent as is (a name or value with characters HTTP does not allow)", short(name)),
                });
            }
        }
        if !transport_allowed(&url) {
            return Err(CallError::NotSent {
                reason: format!(
                    "the e-service URL {url} is not https:// (plain http:// is allowed only to loopback)"
                ),
            });
        }
        if profile.audit && key.evidence().is_none() {
            return Err(CallError::NotSent {
                reason: "the e-service applies AUDIT_REST_02: make the voucher key with with_tracking_evidence".into(),
            });
        }
        if profile.dpop && (!key.is_dpop() || self.dpop_key.is_none()) {
            return Err(CallError::NotSent {
                reason: "the e-service takes DPoP vouchers: make the voucher key with with_dpop and give the caller the DPoP key (Caller::dpop_key)".into(),
            });
        }
        // One retry budget for the call: the token request's retries
        // spend it too (transport::budget).
        budget::scoped(self.throttle.max_attempts, async {
            let mut renewed = false;
            let mut throttled = 0u32;
            let mut attempts = 0u32;
            loop {
                attempts += 1;
                let cached = self.cache.get(key).await?;
                if let Some(limiter) = &self.limiter {
                    limiter.acquire().await;
                }
                let result = self.send_once(profile, &url, &cached, body, headers).await;
                // Why a call failed, for `anist -v` (codes, statuses and ids;
                // the sinks mask anything shaped like a code or a token).
                match &result {
                    Ok(r) => tracing::debug!(
                        target: "anist::call",
                        url = %profile.url,
                        status = r.status,
                        attempt = attempts,
                        "e-service answered"
                    ),
                    // A 404 is how ANIST and ANPR say "no data": an answer
                    // the service layer reads, not a failure to report.
                    Err(CallError::Refused { problem }) if problem.status == 404 => {
                        tracing::debug!(
                            target: "anist::call",
                            url = %profile.url,
                            status = 404,
                            attempt = attempts,
                            "e-service answered 404 (no data, for ANIST and ANPR)"
                        );
                    }
                    Err(e) => tracing::info!(
                        target: "anist::call",
                        url = %profile.url,
                        code = e.code(),
                        govway_id = e.govway_id().unwrap_or("-"),
                        attempt = attempts,
                        "e-service call failed: {e}"
                    ),
                }
                match result {
                    Ok(mut r) => {
                        r.attempts = attempts;
                        return Ok(r);
                    }
                    Err(CallError::Refused { problem }) if problem.status == 401 && !renewed => {
                        renewed = true;
                        self.cache.invalidate(key, &cached);
                    }
                    Err(CallError::Throttled { wait, problem }) => {
                        if let (Some(limiter), Some(asked)) = (&self.limiter, problem.retry_after) {
                            limiter.pause_for(asked);
                        }
                        throttled += 1;
                        let delay = {
                            let mut rng = self
                                .rng
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            self.throttle
                                .delay(throttled, Some(wait), &mut |max| rng.up_to(max))
                                .filter(|_| budget::spend())
                        };
                        let Some(delay) = delay else {
                            return Err(CallError::Throttled { wait, problem });
                        };
                        self.clock.sleep(delay).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        })
        .await
    }

    async fn send_once(
        &self,
        profile: &ServiceProfile,
        url: &str,
        cached: &CachedVoucher,
        body: Option<&Body<'_>>,
        headers: &[(&str, &str)],
    ) -> Result<CallResponse, CallError> {
        let mut builder = match body {
            Some(b) => self
                .http
                .post(url)
                .header("Content-Type", b.content_type)
                .header("Accept", b.accept),
            None => self.http.get(url).header("Accept", JSON),
        };
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder = builder.header("Authorization", cached.voucher().authorization());
        if let (true, Some(dpop_key)) = (profile.dpop, &self.dpop_key) {
            let method = if body.is_some() { "POST" } else { "GET" };
            let proof = DpopProof::new(method, url)
                .access_token(cached.voucher().access_token().as_str())
                .sign(dpop_key, self.clock.as_ref())
                .map_err(|e| CallError::NotSent {
                    reason: format!("the DPoP proof could not be made: {e}"),
                })?;
            builder = builder.header(DPOP_HEADER, proof.as_str());
        }
        let content_encoding = profile
            .content_encoding
            .as_deref()
            .filter(|_| body.is_some());
        if let Some(ce) = content_encoding {
            builder = builder.header("Content-Encoding", ce);
        }
        if profile.integrity {
            let mut req = IntegrityRequest::new(&profile.audience);
            if let Some(body) = body {
                req = req.body(body.bytes).content_type(body.content_type);
            }
            if let Some(ce) = content_encoding {
                req = req.content_encoding(ce);
            }
            let headers = self
                .signer
                .integrity(&req, self.clock.as_ref())
                .map_err(|e| CallError::NotSent {
                    reason: format!("the ModI signature could not be made: {e}"),
                })?;
            for (name, value) in headers.headers() {
                builder = builder.header(name, value);
            }
        }
        if profile.audit {
            let Some(te) = cached.tracking_evidence() else {
                return Err(CallError::NotSent {
                    reason: "the voucher has no TrackingEvidence".into(),
                });
            };
            builder = builder.header(TRACKING_EVIDENCE_HEADER, te.jws().as_str());
        }
        if let Some(body) = body {
            builder = builder.body(body.bytes.to_vec());
        }
        let mut response = builder.send().await.map_err(|e| from_reqwest(&e, false))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_CALL_RESPONSE_BYTES {
                        return Err(CallError::Unparseable {
                            status,
                            reason: format!(
                                "the answer is larger than {MAX_CALL_RESPONSE_BYTES} bytes"
                            ),
                        });
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(from_reqwest(&e, true)),
            }
        }
        let pairs = headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        if (200..300).contains(&status) || (status == 303 && body.is_none()) {
            let location = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.clone());
            let govway_id = GatewayProblem::parse(status, pairs, b"").govway_id;
            return Ok(CallResponse {
                status,
                govway_id,
                location,
                body: bytes,
                attempts: 1,
            });
        }
        Err(CallError::from_answer(GatewayProblem::parse(
            status, pairs, &bytes,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn classification() {
        let p = |status, title: Option<&str>, retry: Option<u64>| GatewayProblem {
            status,
            title: title.map(str::to_string),
            retry_after: retry.map(Duration::from_secs),
            govway_id: Some("g".into()),
            ..GatewayProblem::default()
        };
        let e = CallError::from_answer(p(429, Some("LimitExceeded"), None));
        assert_eq!(e.code(), "gateway_quota_exceeded");
        assert!(!e.is_retryable());
        let e = CallError::from_answer(p(429, Some("TooManyRequests"), Some(2)));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        assert!(e.is_retryable());
        assert_eq!(e.govway_id(), Some("g"));
        assert_eq!(
            CallError::from_answer(p(429, None, None)).code(),
            "gateway_quota_exceeded"
        );
        assert_eq!(
            CallError::from_answer(p(429, None, Some(1))).code(),
            "gateway_throttled"
        );
        let e = CallError::from_answer(p(400, Some("InteroperabilityInvalidRequest"), None));
        assert_eq!(e.code(), "gateway_refused");
        assert_eq!(e.title(), Some("InteroperabilityInvalidRequest"));
        assert!(CallError::from_answer(p(503, None, None)).is_retryable());
        assert!(!CallError::from_answer(p(500, None, None)).is_retryable());
        assert_eq!(
            CallError::from_answer(p(302, None, None)).code(),
            "gateway_unparseable"
        );
    }

    #[test]
    fn problem_from_body_and_headers() {
        let body = br#"{"type":"https://govway.org/handling-errors/429/LimitExceeded.html","title":"LimitExceeded","status":429,"detail":"Limit exceeded detected","govway_id":"abc"}"#;
        let p = GatewayProblem::parse(429, [("X-RateLimit-Reset", "60")], body);
        assert_eq!(p.title.as_deref(), Some("LimitExceeded"));
        assert_eq!(p.govway_id.as_deref(), Some("abc"));
        assert_eq!(p.rate_limit_reset, Some(Duration::from_secs(60)));
        let p = GatewayProblem::parse(
            503,
            [
                ("GovWay-Transaction-ID", "t1"),
                ("GovWay-Transaction-ErrorType", "APIUnavailable"),
            ],
            b"<html>",
        );
        assert_eq!(p.title.as_deref(), Some("APIUnavailable"));
        assert_eq!(p.govway_id.as_deref(), Some("t1"));
    }

    #[test]
    fn soap_faults_are_problems() {
        let body = br#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header/><SOAP-ENV:Body>
 <SOAP-ENV:Fault><faultcode>SOAP-ENV:Server.APIUnavailable</faultcode>
  <faultstring xml:lang="en-US">The API Implementation is temporary unavailable</faultstring>
  <faultactor>http://api.inps.it/modi/soap/integration/fault</faultactor>
  <detail><problem xmlns="urn:ietf:rfc:7807"><title>APIUnavailable</title><status>503</status>
   <detail>The API Implementation is temporary unavailable</detail><govway_id>gw-503</govway_id></problem></detail>
 </SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;
        let p = GatewayProblem::parse(503, [("Content-Type", "text/xml")], body);
        assert_eq!(p.title.as_deref(), Some("APIUnavailable"));
        assert_eq!(p.govway_id.as_deref(), Some("gw-503"));
        assert_eq!(
            p.fault_code.as_deref(),
            Some("SOAP-ENV:Server.APIUnavailable")
        );
        assert_eq!(
            p.detail.as_deref(),
            Some("The API Implementation is temporary unavailable")
        );
        let e = CallError::from_answer(p);
        assert_eq!(e.code(), "gateway_server_error");
        assert!(e.is_retryable());
        // Without a problem, the title comes from the fault code.
        let body = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client.InteroperabilityInvalidRequest</faultcode><faultstring>bad</faultstring></s:Fault></s:Body></s:Envelope>"#;
        let p = GatewayProblem::parse(400, [("GovWay-Transaction-ID", "t9")], body);
        assert_eq!(p.title.as_deref(), Some("InteroperabilityInvalidRequest"));
        assert_eq!(p.fault_string.as_deref(), Some("bad"));
        assert_eq!(p.govway_id.as_deref(), Some("t9"));
        assert_eq!(CallError::from_answer(p).code(), "gateway_refused");
    }

    proptest! {
        #[test]
        fn arbitrary_answers_never_panic(
            status in any::<u16>(),
            headers in proptest::collection::vec(("[A-Za-z-]{1,30}", "\\PC{0,40}"), 0..6),
            body in proptest::collection::vec(any::<u8>(), 0..300),
            json in "\\PC{0,200}",
        ) {
            let pairs = headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
            let p = GatewayProblem::parse(status, pairs.clone(), &body);
            let _ = CallError::from_answer(p).to_string();
            let p = GatewayProblem::parse(status, pairs, json.as_bytes());
            let _ = CallError::from_answer(p).code();
        }
    }
}
