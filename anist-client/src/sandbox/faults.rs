//! Faults by rate, dropped connections and a skewed clock.
//!
//! Besides the one-shot queue of [`super::SandboxHandle::inject_at`], a
//! route can draw a fault for every request from [`FaultRates`]: each
//! route has its own generator, seeded from the sandbox seed and the
//! route, reset whenever its rates are set, so the same seed and the same
//! sequence of requests on a route give the same faults. Queued faults
//! come first; a request with none queued draws.
//!
//! The clock offset shifts the sandbox's notion of now (voucher `iat`/
//! `exp`, assertion expiry, the front's ModI windows and daily quota):
//! the sandbox wraps its configured clock.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use super::{lock, Fault, Route};
use crate::clock::Clock;
use crate::rng::SplitMix64;

/// Default time a `timeout` draw holds the answer: longer than the
/// client's default e-service timeout (30 s).
pub const DEFAULT_TIMEOUT_HOLD: Duration = Duration::from_secs(35);

/// Probabilities of the faults a route draws for each request (each in
/// `0.0..=1.0`, their sum at most 1; what is left is no fault).
///
/// On a front route the drawn fault answers as its one-shot [`Fault`]
/// does, once the call has passed the gateway's checks; on the token route
/// `status_503` is PDND's 500 and both 429 kinds the rate limiter's answer
/// (for valid requests).
///
/// ```
/// use std::time::Duration;
/// use anist_client::sandbox::faults::FaultRates;
/// let rates = FaultRates {
///     status_503: 0.05,
///     drop_connection: 0.01,
///     latency: Some(Duration::from_millis(20)),
///     ..FaultRates::default()
/// };
/// assert!(rates.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRates {
    /// 503 `APIUnavailable` ([`Fault::Status`]`(503)`).
    pub status_503: f64,
    /// 429 `TooManyRequests` with `Retry-After: retry_after`.
    pub too_many_with_retry_after: f64,
    /// 429 `TooManyRequests` without `Retry-After`.
    pub too_many_without: f64,
    /// The connection is closed before the answer is complete
    /// ([`Fault::DropConnection`]).
    pub drop_connection: f64,
    /// The answer is held for `timeout_hold` (set it longer than the
    /// client's timeout).
    pub timeout: f64,
    /// How long a `timeout` draw holds the answer (default
    /// [`DEFAULT_TIMEOUT_HOLD`]).
    pub timeout_hold: Duration,
    /// `Retry-After` of `too_many_with_retry_after`, seconds (default 1).
    pub retry_after: u32,
    /// Added before every request of the route that draws no other fault.
    pub latency: Option<Duration>,
}

impl Default for FaultRates {
    fn default() -> Self {
        Self {
            status_503: 0.0,
            too_many_with_retry_after: 0.0,
            too_many_without: 0.0,
            drop_connection: 0.0,
            timeout: 0.0,
            timeout_hold: DEFAULT_TIMEOUT_HOLD,
            retry_after: 1,
            latency: None,
        }
    }
}

/// Rates that cannot be drawn from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FaultRatesError {
    /// A rate outside `0.0..=1.0` (or not a number).
    #[error("the fault rate {name} is {value}: give a probability between 0.0 and 1.0")]
    OutOfRange {
        /// The field.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// The rates add up to more than 1.
    #[error("the fault rates add up to {sum}: lower them so that their sum is at most 1.0")]
    SumAboveOne {
        /// Their sum.
        sum: f64,
    },
}

impl ErrorCode for FaultRatesError {
    fn code(&self) -> &'static str {
        match self {
            FaultRatesError::OutOfRange { .. } => "fault_rate_out_of_range",
            FaultRatesError::SumAboveOne { .. } => "fault_rates_above_one",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::Sandbox
    }
}

#[doc(hidden)]
impl CodeSamples for FaultRatesError {
    fn samples() -> Vec<Self> {
        vec![
            FaultRatesError::OutOfRange {
                name: "status_503",
                value: 1.5,
            },
            FaultRatesError::SumAboveOne { sum: 1.2 },
        ]
    }
}

impl FaultRates {
    fn table(&self) -> [(&'static str, f64); 5] {
        [
            ("status_503", self.status_503),
            ("too_many_with_retry_after", self.too_many_with_retry_after),
            ("too_many_without", self.too_many_without),
            ("drop_connection", self.drop_connection),
            ("timeout", self.timeout),
        ]
    }

    /// Checks every rate is a probability and their sum at most 1.
    ///
    /// # Errors
    /// [`FaultRatesError`] naming the offending rate.
    pub fn validate(&self) -> Result<(), FaultRatesError> {
        let mut sum = 0.0;
        for (name, value) in self.table() {
            if !(0.0..=1.0).contains(&value) {
                return Err(FaultRatesError::OutOfRange { name, value });
            }
            sum += value;
        }
        // Allow for rounding in sums such as 0.1 + 0.2 + 0.7.
        if sum > 1.0 + 1e-9 {
            return Err(FaultRatesError::SumAboveOne { sum });
        }
        Ok(())
    }

    /// The fault for a uniform draw `u` in `[0, 1)`: the rates are laid
    /// end to end in field order; past them, `latency` (as a delay) or no
    /// fault.
    pub fn pick(&self, u: f64) -> Option<Fault> {
        let faults = [
            Fault::Status(503),
            Fault::TooManyRequests {
                retry_after: Some(self.retry_after),
            },
            Fault::TooManyRequests { retry_after: None },
            Fault::DropConnection,
            Fault::Delay(self.timeout_hold),
        ];
        let mut edge = 0.0;
        for ((_, rate), fault) in self.table().into_iter().zip(faults) {
            edge += rate;
            if u < edge {
                return Some(fault);
            }
        }
        self.latency.map(Fault::Delay)
    }
}

/// A stable 64-bit hash of a route (FNV-1a), so that each route's
/// sequence depends on the seed and the route only.
fn route_hash(route: &Route) -> u64 {
    let text = match route {
        Route::Token => "token".to_string(),
        Route::Front(path) => format!("front:{path}"),
    };
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The rates of every route and the clock offset.
pub(super) struct RateFaults {
    seed: u64,
    routes: Mutex<HashMap<Route, (FaultRates, SplitMix64)>>,
    offset: Arc<AtomicI64>,
}

impl RateFaults {
    pub(super) fn new(seed: u64) -> Self {
        Self {
            seed,
            routes: Mutex::new(HashMap::new()),
            offset: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Sets (or, with `None`, removes) the rates of `route`, restarting its
    /// sequence.
    pub(super) fn set(&self, route: Route, rates: Option<FaultRates>) {
        let mut routes = lock(&self.routes);
        match rates {
            Some(r) => {
                let rng = SplitMix64::new(self.seed ^ route_hash(&route));
                routes.insert(route, (r, rng));
            }
            None => {
                routes.remove(&route);
            }
        }
    }

    /// The fault drawn for the next request of `route`, if it has rates.
    pub(super) fn draw(&self, route: &Route) -> Option<Fault> {
        let mut routes = lock(&self.routes);
        let (rates, rng) = routes.get_mut(route)?;
        // 53 random bits: a uniform f64 in [0, 1).
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        rates.pick(u)
    }

    pub(super) fn set_offset(&self, seconds: i64) {
        self.offset.store(seconds, Ordering::SeqCst);
    }

    /// `base` shifted by this offset.
    pub(super) fn clock(&self, base: Arc<dyn Clock>) -> Arc<dyn Clock> {
        Arc::new(OffsetClock {
            base,
            offset: Arc::clone(&self.offset),
        })
    }
}

/// A clock shifted by a settable number of seconds.
struct OffsetClock {
    base: Arc<dyn Clock>,
    offset: Arc<AtomicI64>,
}

impl Clock for OffsetClock {
    fn now(&self) -> i64 {
        self.base
            .now()
            .saturating_add(self.offset.load(Ordering::SeqCst))
    }

    fn sleep(&self, d: std::time::Duration) -> crate::clock::Sleep {
        self.base.sleep(d)
    }
}

/// A body that sends a few bytes and then fails: hyper aborts the
/// connection without completing the answer.
struct BrokenBody {
    sent: bool,
}

impl axum::body::HttpBody for BrokenBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, io::Error>>> {
        if self.sent {
            Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "sandbox fault: connection dropped",
            ))))
        } else {
            self.sent = true;
            Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from_static(
                b"{\"partial\":",
            )))))
        }
    }
}

/// The answer of [`Fault::DropConnection`]: a 200 whose body breaks off.
pub(super) fn dropped() -> Response {
    let mut resp = Response::new(Body::new(BrokenBody { sent: false }));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_lays_the_rates_end_to_end() {
        let r = FaultRates {
            status_503: 0.1,
            too_many_with_retry_after: 0.1,
            too_many_without: 0.1,
            drop_connection: 0.1,
            timeout: 0.1,
            timeout_hold: Duration::from_secs(2),
            retry_after: 4,
            latency: Some(Duration::from_millis(5)),
        };
        assert_eq!(r.pick(0.05), Some(Fault::Status(503)));
        assert_eq!(
            r.pick(0.15),
            Some(Fault::TooManyRequests {
                retry_after: Some(4)
            })
        );
        assert_eq!(
            r.pick(0.25),
            Some(Fault::TooManyRequests { retry_after: None })
        );
        assert_eq!(r.pick(0.35), Some(Fault::DropConnection));
        assert_eq!(r.pick(0.45), Some(Fault::Delay(Duration::from_secs(2))));
        assert_eq!(r.pick(0.55), Some(Fault::Delay(Duration::from_millis(5))));
        assert_eq!(FaultRates::default().pick(0.0), None);
    }

    #[test]
    fn validation_names_the_rate() {
        let e = FaultRates {
            timeout: 1.5,
            ..FaultRates::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.code(), "fault_rate_out_of_range");
        assert!(e.to_string().contains("timeout"));
        let e = FaultRates {
            status_503: f64::NAN,
            ..FaultRates::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.code(), "fault_rate_out_of_range");
        let e = FaultRates {
            status_503: 0.6,
            drop_connection: 0.6,
            ..FaultRates::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.code(), "fault_rates_above_one");
        assert!(FaultRates {
            status_503: 0.1,
            too_many_without: 0.2,
            timeout: 0.7,
            ..FaultRates::default()
        }
        .validate()
        .is_ok());
    }

    #[test]
    fn draws_repeat_for_the_same_seed_and_route() {
        let rates = FaultRates {
            status_503: 0.3,
            drop_connection: 0.3,
            ..FaultRates::default()
        };
        let seq = |seed: u64, route: Route| {
            let f = RateFaults::new(seed);
            f.set(route.clone(), Some(rates));
            (0..200).map(|_| f.draw(&route)).collect::<Vec<_>>()
        };
        let a = seq(5, Route::Token);
        assert_eq!(a, seq(5, Route::Token));
        assert_ne!(a, seq(6, Route::Token));
        assert_ne!(a, seq(5, Route::Front("x/y/v1".into())));
        let f = RateFaults::new(5);
        assert_eq!(f.draw(&Route::Token), None);
    }

    #[test]
    fn offset_clock_shifts_now() {
        let f = RateFaults::new(0);
        let base: Arc<dyn Clock> = Arc::new(crate::clock::ManualClock::new(1000));
        let c = f.clock(base);
        assert_eq!(c.now(), 1000);
        f.set_offset(-300);
        assert_eq!(c.now(), 700);
    }
}
