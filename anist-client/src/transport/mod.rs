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
//! | failure | retried by | its own limit (default) |
//! |---|---|---|
//! | token request: 429, 5xx, timeout, network | the token fetcher (`voucher::http`) | 3 attempts ([`Backoff::token_request`]) |
//! | e-service `429 TooManyRequests` | the caller (`call::Caller`) | 4 attempts ([`Backoff::gateway_throttling`]) |
//! | INPS `DATABASE_OFFLINE`, `ERRORE_INTERNO` | the ISEE client | 3 questions ([`Backoff::inps_outage`]) |
//! | e-service 502/503/504, timeout, network | the bulk jobs (a single lookup is not retried) | `JobOptions::max_attempts` (4) |
//!
//! # One budget per call
//!
//! The layers nest (a bulk row → the ISEE client → the caller → the token
//! request), and their retries do not multiply: the outermost layer of a
//! call opens a [`budget`] of its own limit, and every retry of every
//! layer below spends from it ([`budget::spend`]). So:
//!
//! - a row of a bulk job makes at most `max_attempts` attempts in all,
//!   counting the token requests, the throttled calls and INPS's outages
//!   asked again below it;
//! - an ISEE lookup at most 3 questions and retries in all;
//! - a single ANIST or ANPR call at most 4 attempts in all (a throttled
//!   call and the token request share them);
//! - a token request on its own (the cache's refresh, `anist config
//!   check`) at most 3.
//!
//! A token request shared by several calls (the cache's single flight)
//! spends the budget of the call that made it.

pub mod backoff;
pub mod budget;
pub mod http;
pub mod ratelimit;

pub use backoff::Backoff;
pub use http::{transport_allowed, HttpOptions};
