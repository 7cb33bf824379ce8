//! The token request and its answers (protocol reference §2.3, §2.5, §2.6),
//! as pure build and parse functions: the transport only moves bytes.
//!
//! ```
//! use anist_client::voucher::token::parse_token_response;
//! use anist_core::ErrorCode;
//!
//! let body = br#"{"title":"The request contains bad syntax or cannot be fulfilled.",
//!   "type":"about:blank","status":400,"detail":"Bad request",
//!   "errors":[{"code":"015-0008","detail":"Unable to generate a token for the given request"}],
//!   "correlationId":"7c5c4b52-1b1e-4b8e-a8d3-5bd0b8a3c1f2"}"#;
//! let err = parse_token_response(400, [], body).unwrap_err();
//! assert_eq!(err.code(), "voucher_refused");
//! assert_eq!(err.correlation_id(), Some("7c5c4b52-1b1e-4b8e-a8d3-5bd0b8a3c1f2"));
//! assert!(!err.is_retryable());
//! ```

use std::fmt;

use std::time::Duration;

use anist_core::{ErrorCode, ErrorKind, Sent};
use serde_json::Value;

use crate::ids::ClientId;
use crate::jws::{decode_unverified, CompactJws};
use crate::voucher::assertion::ClientAssertion;

/// The only `client_assertion_type` PDND accepts.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The only `grant_type` PDND accepts.
pub const GRANT_TYPE: &str = "client_credentials";
/// `Content-Type` of the token request.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// The PDND error code of every functional refusal (opaque by design).
pub const REFUSED_ERROR_CODE: &str = "015-0008";

/// The form body of a token request. `Debug` hides the assertion.
#[derive(Clone)]
pub struct TokenRequest {
    client_id: ClientId,
    assertion: CompactJws,
}

impl TokenRequest {
    /// A request for `client_id` carrying `assertion`.
    pub fn new(client_id: ClientId, assertion: &ClientAssertion) -> Self {
        Self {
            client_id,
            assertion: assertion.jws().clone(),
        }
    }

    /// The request headers besides `Content-Length`: `Content-Type` and
    /// `Accept`.
    pub fn headers() -> [(&'static str, &'static str); 2] {
        [
            ("Content-Type", FORM_CONTENT_TYPE),
            ("Accept", "application/json"),
        ]
    }

    /// `client_id=…&client_assertion=…&client_assertion_type=…&grant_type=client_credentials`,
    /// form-urlencoded. No `scope`, `resource` or `client_secret`.
    pub fn form_body(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", self.client_id.as_str())
            .append_pair("client_assertion", self.assertion.as_str())
            .append_pair("client_assertion_type", CLIENT_ASSERTION_TYPE)
            .append_pair("grant_type", GRANT_TYPE)
            .finish()
    }
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("client_id", &self.client_id)
            .field("client_assertion", &self.assertion)
            .finish()
    }
}

/// The fields of a received token-request form (what the sandbox reads).
/// A field sent twice keeps its first value; unknown fields are listed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TokenForm {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `client_assertion`.
    pub client_assertion: Option<String>,
    /// `client_assertion_type`.
    pub client_assertion_type: Option<String>,
    /// `grant_type`.
    pub grant_type: Option<String>,
    /// Names of any other fields.
    pub other_fields: Vec<String>,
}

impl fmt::Debug for TokenForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenForm")
            .field("client_id", &self.client_id)
            .field(
                "client_assertion",
                &self
                    .client_assertion
                    .as_ref()
                    .map(|a| format!("<redacted, {} bytes>", a.len())),
            )
            .field("client_assertion_type", &self.client_assertion_type)
            .field("grant_type", &self.grant_type)
            .field("other_fields", &self.other_fields)
            .finish()
    }
}

/// Parses a form-urlencoded token request body. Never fails: malformed
/// percent-escapes are decoded leniently, as servers do.
pub fn parse_token_form(body: &[u8]) -> TokenForm {
    let mut form = TokenForm::default();
    for (name, value) in form_urlencoded::parse(body) {
        let slot = match name.as_ref() {
            "client_id" => &mut form.client_id,
            "client_assertion" => &mut form.client_assertion,
            "client_assertion_type" => &mut form.client_assertion_type,
            "grant_type" => &mut form.grant_type,
            other => {
                form.other_fields.push(other.to_string());
                continue;
            }
        };
        if slot.is_none() {
            *slot = Some(value.into_owned());
        }
    }
    form
}

/// `token_type` of a voucher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// `Authorization: Bearer <voucher>`.
    Bearer,
    /// `Authorization: DPoP <voucher>` plus a `DPoP` proof.
    DPoP,
}

impl TokenType {
    /// The `Authorization` scheme.
    pub fn scheme(self) -> &'static str {
        match self {
            TokenType::Bearer => "Bearer",
            TokenType::DPoP => "DPoP",
        }
    }
}

/// A voucher issued by PDND, with the claims a client needs, read from the
/// token without verifying it (the e-service verifies it).
#[derive(Clone)]
pub struct Voucher {
    access_token: CompactJws,
    token_type: TokenType,
    expires_in: i64,
    iat: Option<i64>,
    exp: Option<i64>,
    aud: Option<String>,
    purpose_id: Option<String>,
    digest: Option<String>,
}

impl Voucher {
    /// The token, for the `Authorization` header.
    pub fn access_token(&self) -> &CompactJws {
        &self.access_token
    }

    /// Bearer or DPoP.
    pub fn token_type(&self) -> TokenType {
        self.token_type
    }

    /// `expires_in` of the response, seconds.
    pub fn expires_in(&self) -> i64 {
        self.expires_in
    }

    /// The voucher's `iat`, if readable.
    pub fn iat(&self) -> Option<i64> {
        self.iat
    }

    /// The voucher's `exp`, if readable.
    pub fn exp(&self) -> Option<i64> {
        self.exp
    }

    /// The voucher's `aud` (a string; several audiences are comma-joined).
    pub fn audience(&self) -> Option<&str> {
        self.aud.as_deref()
    }

    /// The voucher's `purposeId`.
    pub fn purpose_id(&self) -> Option<&str> {
        self.purpose_id.as_deref()
    }

    /// The voucher's `digest.value` (echo of the assertion's digest).
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// How long the voucher lives: its own `exp - iat` when readable and
    /// positive, otherwise `expires_in`.
    pub fn lifetime(&self) -> i64 {
        match (self.iat, self.exp) {
            (Some(iat), Some(exp)) if exp > iat => exp - iat,
            _ => self.expires_in,
        }
    }

    /// `Bearer <token>` or `DPoP <token>`: the `Authorization` value.
    pub fn authorization(&self) -> String {
        format!(
            "{} {}",
            self.token_type.scheme(),
            self.access_token.as_str()
        )
    }
}

impl fmt::Debug for Voucher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Voucher")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .field("aud", &self.aud)
            .field("purpose_id", &self.purpose_id)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

/// PDND's rate-limit headers (`X-Rate-Limit-*`; the interval is in
/// milliseconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// `X-Rate-Limit-Limit`: requests allowed per interval.
    pub limit: Option<u64>,
    /// `X-Rate-Limit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-Rate-Limit-Interval`, milliseconds.
    pub interval_ms: Option<u64>,
}

impl RateLimit {
    /// Reads the three headers (names case-insensitive; unparsable values
    /// are ignored).
    pub fn from_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut r = RateLimit::default();
        for (name, value) in headers {
            let slot = if name.eq_ignore_ascii_case("x-rate-limit-limit") {
                &mut r.limit
            } else if name.eq_ignore_ascii_case("x-rate-limit-remaining") {
                &mut r.remaining
            } else if name.eq_ignore_ascii_case("x-rate-limit-interval") {
                &mut r.interval_ms
            } else {
                continue;
            };
            if let Ok(v) = value.trim().parse() {
                *slot = Some(v);
            }
        }
        r
    }
}

/// One entry of a PDND problem's `errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemError {
    /// `NNN-NNNN`, e.g. `015-0008`.
    pub code: String,
    /// PDND's text.
    pub detail: String,
}

/// A PDND error body (RFC 7807 plus `correlationId` and `errors`). Every
/// member is optional: whatever could be read is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problem {
    /// `type`.
    pub problem_type: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `status`.
    pub status: Option<u16>,
    /// `detail`.
    pub detail: Option<String>,
    /// `correlationId`: quote it when asking PDND's support.
    pub correlation_id: Option<String>,
    /// `errors`.
    pub errors: Vec<ProblemError>,
}

impl Problem {
    /// Reads a problem body; `None` if it is not a JSON object.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) else {
            return None;
        };
        let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
        let errors = o
            .get("errors")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|e| {
                        Some(ProblemError {
                            code: e.get("code")?.as_str()?.to_string(),
                            detail: e
                                .get("detail")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Problem {
            problem_type: text("type"),
            title: text("title"),
            status: o
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok()),
            detail: text("detail"),
            correlation_id: text("correlationId"),
            errors,
        })
    }

    /// True when one of `errors` has this code.
    pub fn has_code(&self, code: &str) -> bool {
        self.errors.iter().any(|e| e.code == code)
    }
}

// The one error of a token request: what PDND answered (classified by
// `parse_token_response`) and what happened on the way (classified by the
// HTTP fetcher). Two codes of round 1 named the same thing as another and
// are retired: `voucher_rate_limited` is `voucher_throttled`,
// `voucher_malformed_response` is `voucher_unparseable` (see ERRORS.md).

/// What happened to a token request that gave no voucher. Every variant
/// has a stable [`ErrorCode::code`]; messages never contain the assertion
/// or a voucher.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The request was not sent: the assertion or the HTTP client could not
    /// be made, or the configuration is unusable.
    #[error("the token request was not sent: {reason}")]
    NotSent {
        /// Why.
        reason: String,
    },
    /// PDND refused the request (400 `015-0008`): claims, key, signature,
    /// expiry or platform state. Not retried.
    #[error("PDND refused the voucher request (015-0008; correlationId {}): run the pre-flight diagnosis on the assertion, and check that purpose and agreement are active", .problem.correlation_id.as_deref().unwrap_or("absent"))]
    Refused {
        /// PDND's error body; quote `correlation_id` to PDND's support.
        problem: Box<Problem>,
    },
    /// PDND's request validator refused the form (400, not `015-0008`).
    #[error("PDND refused the token request form (correlationId {}): {}", .problem.correlation_id.as_deref().unwrap_or("absent"), .problem.errors.first().map_or("no detail", |e| e.detail.as_str()))]
    FormRejected {
        /// PDND's error body.
        problem: Box<Problem>,
    },
    /// 429: the organization's rate limit; retryable after `wait`.
    #[error("PDND throttled the token request: retry after {} ms", .wait.as_millis())]
    Throttled {
        /// How long the server asked to wait.
        wait: Duration,
        /// The rate-limit headers.
        rate: RateLimit,
        /// The error body.
        problem: Box<Problem>,
    },
    /// 429 `LimitExceeded` from a gateway in the path (PDND's own token
    /// endpoint has no quota): not retryable until the window resets.
    #[error("a quota was exhausted on the token path{}", .reset.map(|r| format!("; it resets in {} s", r.as_secs())).unwrap_or_default())]
    QuotaExceeded {
        /// When the quota resets, if said.
        reset: Option<Duration>,
        /// The error body.
        problem: Box<Problem>,
    },
    /// No answer in time.
    #[error("the token request timed out ({})", match .sent { Sent::No => "while connecting: not sent", _ => "it may have been processed" })]
    TimedOut {
        /// Whether it may have reached PDND.
        sent: Sent,
    },
    /// The connection failed.
    #[error("the token request failed on the network ({}): {reason}", match .sent { Sent::No => "not sent", Sent::Maybe => "maybe sent", Sent::Yes => "sent" })]
    Network {
        /// Whether it may have reached PDND.
        sent: Sent,
        /// The transport's reason.
        reason: String,
    },
    /// 5xx: PDND failed.
    #[error("PDND answered {status} (correlationId {})", .problem.correlation_id.as_deref().unwrap_or("absent"))]
    Server {
        /// The status.
        status: u16,
        /// The error body.
        problem: Box<Problem>,
    },
    /// A status the protocol does not foresee (3xx, 401, 404…).
    #[error("PDND answered the token request with an unexpected status {status}")]
    UnexpectedStatus {
        /// The status.
        status: u16,
        /// The error body, if readable.
        problem: Box<Problem>,
    },
    /// 200 with a body that is not a voucher response, or a body too large.
    #[error("PDND's token response could not be read: {reason}")]
    Unparseable {
        /// What is wrong.
        reason: String,
    },
}

impl ErrorCode for FetchError {
    fn code(&self) -> &'static str {
        match self {
            FetchError::NotSent { .. } => "voucher_not_sent",
            FetchError::Refused { .. } => "voucher_refused",
            FetchError::FormRejected { .. } => "voucher_bad_request",
            FetchError::Throttled { .. } => "voucher_throttled",
            FetchError::QuotaExceeded { .. } => "voucher_quota_exceeded",
            FetchError::TimedOut { .. } => "voucher_timeout",
            FetchError::Network { .. } => "voucher_network",
            FetchError::Server { .. } => "voucher_server_error",
            FetchError::UnexpectedStatus { .. } => "voucher_unexpected_status",
            FetchError::Unparseable { .. } => "voucher_unparseable",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            FetchError::NotSent { .. } => ErrorKind::NotSent,
            FetchError::Refused { .. } | FetchError::FormRejected { .. } => ErrorKind::AuthRefused,
            FetchError::Throttled { .. } => ErrorKind::Throttled,
            FetchError::QuotaExceeded { .. } => ErrorKind::QuotaExhausted,
            FetchError::TimedOut { .. } => ErrorKind::TimedOut,
            FetchError::Network { .. } => ErrorKind::Network,
            FetchError::Server { .. } => ErrorKind::ServerError,
            FetchError::UnexpectedStatus { .. } | FetchError::Unparseable { .. } => {
                ErrorKind::UnexpectedAnswer
            }
        }
    }

    fn request_sent(&self) -> Option<Sent> {
        Some(self.sent())
    }

    /// The wait PDND asked for when it throttled the request, or when an
    /// exhausted quota resets.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Throttled { wait, .. } => Some(*wait),
            FetchError::QuotaExceeded { reset, .. } => *reset,
            _ => None,
        }
    }
}

impl FetchError {
    /// Whether the request reached PDND.
    pub fn sent(&self) -> Sent {
        match self {
            FetchError::NotSent { .. } => Sent::No,
            FetchError::TimedOut { sent } | FetchError::Network { sent, .. } => *sent,
            _ => Sent::Yes,
        }
    }

    /// PDND's `correlationId`, when it sent one.
    pub fn correlation_id(&self) -> Option<&str> {
        match self {
            FetchError::Refused { problem }
            | FetchError::FormRejected { problem }
            | FetchError::Throttled { problem, .. }
            | FetchError::QuotaExceeded { problem, .. }
            | FetchError::Server { problem, .. }
            | FetchError::UnexpectedStatus { problem, .. } => problem.correlation_id.as_deref(),
            _ => None,
        }
    }

    /// Whether trying again may succeed (§5): throttling, server errors,
    /// timeouts and network failures. Refusals, quota and local errors are
    /// final.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            FetchError::Throttled { .. }
                | FetchError::Server { .. }
                | FetchError::TimedOut { .. }
                | FetchError::Network { .. }
        )
    }
}

#[doc(hidden)]
impl anist_core::CodeSamples for FetchError {
    fn samples() -> Vec<Self> {
        let problem = || Box::new(Problem::default());
        vec![
            FetchError::NotSent { reason: "x".into() },
            FetchError::Refused { problem: problem() },
            FetchError::FormRejected { problem: problem() },
            FetchError::Throttled {
                wait: Duration::from_secs(1),
                rate: RateLimit::default(),
                problem: problem(),
            },
            FetchError::QuotaExceeded {
                reset: None,
                problem: problem(),
            },
            FetchError::TimedOut { sent: Sent::Maybe },
            FetchError::Network {
                sent: Sent::No,
                reason: "x".into(),
            },
            FetchError::Server {
                status: 503,
                problem: problem(),
            },
            FetchError::UnexpectedStatus {
                status: 401,
                problem: problem(),
            },
            FetchError::Unparseable { reason: "x".into() },
        ]
    }
}

impl From<crate::transport::http::ClientBuildError> for FetchError {
    fn from(e: crate::transport::http::ClientBuildError) -> Self {
        FetchError::NotSent { reason: e.reason }
    }
}

/// A successful token response.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    /// The voucher.
    pub voucher: Voucher,
    /// The rate-limit headers that came with it.
    pub rate: RateLimit,
}

/// Interprets the answer of `POST /token.oauth2`: status, headers (for the
/// rate-limit values) and body.
///
/// # Errors
/// [`FetchError`], by status: 400 with `015-0008` → `Refused`, other 400 →
/// `FormRejected`, 429 → `Throttled` (the wait from `Retry-After`, else
/// the rate-limit interval, else one second) or `QuotaExceeded` (a
/// gateway's `LimitExceeded`), 5xx → `Server`, other non-200 →
/// `UnexpectedStatus`; a 200 without a usable voucher → `Unparseable`.
pub fn parse_token_response<'a>(
    status: u16,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: &[u8],
) -> Result<TokenResponse, FetchError> {
    let headers: Vec<(&str, &str)> = headers.into_iter().collect();
    let rate = RateLimit::from_headers(headers.iter().copied());
    if status != 200 {
        let problem = Box::new(Problem::parse(body).unwrap_or_default());
        return Err(match status {
            400 if problem.has_code(REFUSED_ERROR_CODE) => FetchError::Refused { problem },
            400 => FetchError::FormRejected { problem },
            429 => {
                let retry_after = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("retry-after"))
                    .and_then(|(_, v)| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                if problem.title.as_deref() == Some("LimitExceeded") {
                    FetchError::QuotaExceeded {
                        reset: retry_after,
                        problem,
                    }
                } else {
                    let wait = retry_after
                        .or_else(|| rate.interval_ms.map(Duration::from_millis))
                        .unwrap_or(Duration::from_secs(1));
                    FetchError::Throttled {
                        wait,
                        rate,
                        problem,
                    }
                }
            }
            500..=599 => FetchError::Server { status, problem },
            _ => FetchError::UnexpectedStatus { status, problem },
        });
    }
    let malformed = |reason: &str| FetchError::Unparseable {
        reason: reason.to_string(),
    };
    let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) else {
        return Err(malformed("not a JSON object"));
    };
    let token = o
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| malformed("no access_token"))?;
    if token.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(malformed("access_token contains blanks"));
    }
    let token_type = match o.get("token_type").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("bearer") => TokenType::Bearer,
        Some(t) if t.eq_ignore_ascii_case("dpop") => TokenType::DPoP,
        _ => return Err(malformed("token_type is neither Bearer nor DPoP")),
    };
    let expires_in = o
        .get("expires_in")
        .and_then(Value::as_i64)
        .filter(|s| *s > 0)
        .ok_or_else(|| malformed("expires_in is not a positive number of seconds"))?;
    let claims = decode_unverified(token).ok().map(|d| d.payload);
    let int = |k: &str| {
        claims
            .as_ref()
            .and_then(|c| c.get(k))
            .and_then(Value::as_i64)
    };
    let text = |k: &str| {
        claims
            .as_ref()
            .and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let digest = claims
        .as_ref()
        .and_then(|c| c.get("digest"))
        .and_then(|d| d.get("value"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(TokenResponse {
        voucher: Voucher {
            access_token: CompactJws::from_string(token.to_string()),
            token_type,
            expires_in,
            iat: int("iat"),
            exp: int("exp"),
            aud: text("aud"),
            purpose_id: text("purposeId"),
            digest,
        },
        rate,
    })
}
