//! A client-side rate limiter: a token bucket shared (through an [`Arc`](std::sync::Arc))
//! by every task that calls one budget — typically a tenant's allowance on
//! an e-service — so that the gateway's own limits (`429 TooManyRequests`)
//! are not reached in the first place.
//!
//! [`RateLimiter::acquire`] waits for the next free slot: up to `burst`
//! calls go at once, then one every `1 / per_second`. Slots are handed out
//! in order of arrival (each caller reserves its slot, then sleeps until
//! it), so concurrent tasks are paced exactly, not retried. A caller that
//! is cancelled while waiting loses its slot (the budget is never
//! overrun). [`RateLimiter::pause_for`] stops every caller for a while,
//! e.g. the gateway's `Retry-After`; [`crate::call::Caller`] does it on
//! its own when it is throttled.
//!
//! Time is tokio's, so tests can run it paused.
//!
//! ```
//! use std::sync::Arc;
//! use anist_client::ratelimit::RateLimiter;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let limiter = Arc::new(RateLimiter::new(50.0, 5)?);
//! for _ in 0..5 {
//!     limiter.acquire().await; // the burst: no wait
//! }
//! # Ok::<(), anist_client::ratelimit::RateLimiterError>(())
//! # }).unwrap();
//! ```

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use tokio::time::Instant;

/// A limiter that cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimiterError {
    /// The rate is not a positive number (or is too small to represent).
    #[error("the rate limit {per_second} calls per second is not usable: give a positive number, e.g. 10")]
    BadRate {
        /// The rate given.
        per_second: f64,
    },
    /// A burst of 0 would never let a call through.
    #[error("the rate limiter's burst is 0: give at least 1")]
    ZeroBurst,
}

impl ErrorCode for RateLimiterError {
    fn code(&self) -> &'static str {
        match self {
            RateLimiterError::BadRate { .. } => "rate_limit_bad_rate",
            RateLimiterError::ZeroBurst => "rate_limit_zero_burst",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::Config
    }
}

#[doc(hidden)]
impl CodeSamples for RateLimiterError {
    fn samples() -> Vec<Self> {
        vec![
            RateLimiterError::BadRate { per_second: 0.0 },
            RateLimiterError::ZeroBurst,
        ]
    }
}

/// An async token bucket (GCRA form: one "theoretical arrival time").
pub struct RateLimiter {
    interval: Duration,
    /// `(burst - 1) * interval`: how far ahead of the schedule calls may be.
    tolerance: Duration,
    per_second: f64,
    burst: u32,
    /// The theoretical arrival time of the next call; `None` before the
    /// first.
    tat: Mutex<Option<Instant>>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("per_second", &self.per_second)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// `per_second` calls per second on average, up to `burst` at once.
    ///
    /// # Errors
    /// [`RateLimiterError`] for a rate that is not positive and finite (or
    /// below one call in about 30 years) or a zero burst.
    pub fn new(per_second: f64, burst: u32) -> Result<Self, RateLimiterError> {
        if burst == 0 {
            return Err(RateLimiterError::ZeroBurst);
        }
        let interval = if per_second.is_finite() && per_second > 0.0 {
            Duration::try_from_secs_f64(1.0 / per_second).ok()
        } else {
            None
        };
        let interval = interval
            .filter(|i| *i <= Duration::from_secs(1 << 30))
            .ok_or(RateLimiterError::BadRate { per_second })?;
        Ok(Self {
            interval,
            tolerance: interval.saturating_mul(burst - 1),
            per_second,
            burst,
            tat: Mutex::new(None),
        })
    }

    /// The average number of calls per second.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    /// The burst.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Time between two calls once the burst is spent.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // One assignment per critical section: never left half-written.
        self.tat
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reserves the next slot and says when it starts.
    fn reserve(&self, now: Instant) -> Instant {
        let mut tat = self.lock();
        let t = tat.map_or(now, |t| t.max(now));
        let start = t.checked_sub(self.tolerance).map_or(now, |s| s.max(now));
        *tat = Some(t + self.interval);
        start
    }

    /// How long a call made now would wait (without reserving a slot).
    pub fn delay(&self) -> Duration {
        let now = Instant::now();
        let tat = *self.lock();
        tat.and_then(|t| t.checked_sub(self.tolerance))
            .map_or(Duration::ZERO, |s| s.saturating_duration_since(now))
    }

    /// Waits for this caller's slot. Slots are given in order of arrival.
    pub async fn acquire(&self) {
        let start = self.reserve(Instant::now());
        tokio::time::sleep_until(start).await;
    }

    /// Lets no call start for `wait` from now (e.g. a gateway's
    /// `Retry-After`); callers already waiting for a later slot are not
    /// moved earlier. After the pause, calls resume at the average rate,
    /// without a burst.
    pub fn pause_for(&self, wait: Duration) {
        let now = Instant::now();
        let mut tat = self.lock();
        let resume = now + wait + self.tolerance;
        *tat = Some(tat.map_or(resume, |t| t.max(resume)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn bad_configurations_are_refused() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-12] {
            let e = RateLimiter::new(rate, 1).unwrap_err();
            assert_eq!(e.code(), "rate_limit_bad_rate", "{rate}");
        }
        assert_eq!(
            RateLimiter::new(1.0, 0).unwrap_err().code(),
            "rate_limit_zero_burst"
        );
        let l = RateLimiter::new(4.0, 2).unwrap();
        assert_eq!(l.interval(), Duration::from_millis(250));
        assert_eq!(l.burst(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn burst_then_exact_pacing() {
        let l = RateLimiter::new(10.0, 3).unwrap();
        let t0 = Instant::now();
        let mut at = Vec::new();
        for _ in 0..8 {
            l.acquire().await;
            at.push(t0.elapsed().as_millis());
        }
        assert_eq!(at, [0, 0, 0, 100, 200, 300, 400, 500]);
        // Idle time refills the bucket, up to the burst only.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let t1 = Instant::now();
        let mut at = Vec::new();
        for _ in 0..5 {
            l.acquire().await;
            at.push(t1.elapsed().as_millis());
        }
        assert_eq!(at, [0, 0, 0, 100, 200]);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_tasks_share_the_budget() {
        let l = Arc::new(RateLimiter::new(4.0, 1).unwrap());
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let l = Arc::clone(&l);
                tokio::spawn(async move {
                    l.acquire().await;
                    t0.elapsed().as_millis()
                })
            })
            .collect();
        let mut at = Vec::new();
        for t in tasks {
            at.push(t.await.unwrap());
        }
        at.sort_unstable();
        assert_eq!(at, [0, 250, 500, 750, 1000, 1250, 1500, 1750]);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_stops_everyone_then_resumes_at_the_rate() {
        let l = RateLimiter::new(10.0, 5).unwrap();
        let t0 = Instant::now();
        l.acquire().await;
        l.pause_for(Duration::from_secs(2));
        assert_eq!(l.delay(), Duration::from_secs(2));
        let mut at = Vec::new();
        for _ in 0..3 {
            l.acquire().await;
            at.push(t0.elapsed().as_millis());
        }
        assert_eq!(at, [2000, 2100, 2200]);
        // A shorter pause does not move later slots earlier.
        l.pause_for(Duration::from_millis(10));
        l.acquire().await;
        assert_eq!(t0.elapsed().as_millis(), 2300);
    }
}
