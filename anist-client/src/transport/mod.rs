//! The transport every client of the crate shares: the HTTP client and its
//! options ([`http`]), the client-side rate limiter ([`ratelimit`]) and the
//! one backoff ([`backoff`]).
//!
//! # Retries: who asks again, and how often
//!
//! Each layer retries its own failures, with the one backoff rule of
//! [`Backoff`] and the sleep of the injected clock (a bulk job waits by its
//! service's, `AttendanceService::clock` / `IseeLookup::clock`):
//!
//! | failure | retried by | budget (default) |
//! |---|---|---|
//! | token request: 429, 5xx, timeout, network | the token fetcher (`voucher::http`) | 3 attempts ([`Backoff::token_request`]) |
//! | e-service `429 TooManyRequests` | the caller (`call::Caller`) | 4 attempts ([`Backoff::gateway_throttling`]) |
//! | INPS `DATABASE_OFFLINE`, `ERRORE_INTERNO` | the ISEE client | 3 questions ([`Backoff::inps_outage`]) |
//! | e-service 502/503/504, timeout, network | the bulk jobs (a single lookup is not retried) | `JobOptions::max_attempts` |
//!
//! A bulk job asks a row again when its call failed with a retryable
//! error, including one a layer below already retried (a token request
//! that failed three times, a call still throttled after four attempts,
//! INPS still offline after three questions). Those budgets therefore
//! multiply in the worst case (`max_attempts` × the layer's budget). That
//! is deliberate for now: a voucher failure is shared by every row
//! waiting on it, and the jobs' fault tests rely on the job outlasting
//! it. One budget per call, with the job's attempts spent by the layers
//! below, is the next step (issue #13, item 2).

pub mod backoff;
pub mod http;
pub mod ratelimit;

pub use backoff::Backoff;
pub use http::{transport_allowed, HttpOptions};
