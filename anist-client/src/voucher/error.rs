//! The one error of a token request: what PDND answered (classified by
//! [`crate::voucher::token::parse_token_response`]) and what happened on
//! the way (classified by the HTTP fetcher). One vocabulary for both, so
//! that a custom [`crate::voucher::cache::TokenFetcher`] and the built-in
//! one report the same codes.
//!
//! Two codes of round 1 named the same thing as another and are retired:
//! `voucher_rate_limited` is `voucher_throttled`, `voucher_malformed_response`
//! is `voucher_unparseable` (see ERRORS.md).

use std::time::Duration;

use anist_core::{ErrorCode, ErrorKind, Sent};

use crate::voucher::token::{Problem, RateLimit};

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

    fn retry_after(&self) -> Option<Duration> {
        FetchError::retry_after(self)
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

    /// The wait the server asked for, when it asked.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Throttled { wait, .. } => Some(*wait),
            _ => None,
        }
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
