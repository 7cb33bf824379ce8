//! The one backoff of the crate: how long to wait before asking again.
//!
//! Every retry loop (the token request, the gateway's throttling, INPS's
//! "database offline", the bulk jobs) asks [`Backoff::delay`], so one rule
//! holds everywhere:
//!
//! - the server asked for a wait (`Retry-After`, `X-Rate-Limit-Interval`):
//!   never sooner than asked, spread over `[wait, 1.25 × wait]` so that
//!   the clients it throttled together do not come back together; a wait
//!   longer than [`Backoff::max_wait`] is not waited, the error is
//!   returned;
//! - otherwise full jitter: a random wait in `[0, min(cap, base × 2ⁿ⁻¹)]`
//!   after the `n`-th failed attempt.
//!
//! The sleep itself is the injected clock's ([`crate::clock::Clock::sleep`]).

use std::time::Duration;

/// When and how often to ask again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The first backoff step (doubled after each failed attempt).
    pub base: Duration,
    /// The largest backoff step.
    pub cap: Duration,
    /// The largest server-requested wait that is honoured.
    pub max_wait: Duration,
    /// Seed of the jitter (`None`: from the system).
    pub seed: Option<u64>,
}

impl Default for Backoff {
    /// Three attempts, 0.5 s doubling up to 2 s, server waits up to 60 s
    /// (§5 of the protocol reference).
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(2),
            max_wait: Duration::from_secs(60),
            seed: None,
        }
    }
}

impl Backoff {
    /// One attempt: never ask again.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The token request (§5): three attempts, 0.5, 1, 2 s.
    pub fn token_request() -> Self {
        Self::default()
    }

    /// A gateway's `429 TooManyRequests` (§5): three retries (four
    /// attempts) after the wait the gateway asks for, up to 60 s.
    pub fn gateway_throttling() -> Self {
        Self {
            max_attempts: 4,
            ..Self::default()
        }
    }

    /// INPS's `DATABASE_OFFLINE` / `ERRORE_INTERNO`: three questions,
    /// 0.5 s doubling up to 10 s.
    pub fn inps_outage() -> Self {
        Self {
            cap: Duration::from_secs(10),
            ..Self::default()
        }
    }

    /// The same backoff with `n` attempts in all (at least 1).
    #[must_use]
    pub fn attempts(self, n: u32) -> Self {
        Self {
            max_attempts: n.max(1),
            ..self
        }
    }

    /// The wait before the next attempt, after `attempt` attempts
    /// (1-based) failed with an error worth retrying, or `None` when there
    /// is no attempt left or the server's wait is longer than
    /// [`Self::max_wait`]. `retry_after` is the wait the server asked for;
    /// `random(max)` draws in `0..=max`.
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        random: &mut dyn FnMut(u64) -> u64,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts.max(1) {
            return None;
        }
        if let Some(wait) = retry_after {
            if wait > self.max_wait {
                return None;
            }
            let spread = random(u64::try_from(wait.as_millis() / 4).unwrap_or(u64::MAX));
            return Some(wait + Duration::from_millis(spread));
        }
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let step = self.base.saturating_mul(factor).min(self.cap);
        let ms = random(u64::try_from(step.as_millis()).unwrap_or(u64::MAX));
        Some(Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_steps_double_up_to_the_cap_and_stop_with_the_attempts() {
        let b = Backoff::default();
        let mut top = |max: u64| max;
        assert_eq!(b.delay(1, None, &mut top), Some(Duration::from_millis(500)));
        assert_eq!(b.delay(2, None, &mut top), Some(Duration::from_secs(1)));
        assert_eq!(b.delay(3, None, &mut top), None);
        let long = b.attempts(6);
        assert_eq!(long.delay(5, None, &mut top), Some(Duration::from_secs(2)));
        assert_eq!(Backoff::never().delay(1, None, &mut top), None);
        assert_eq!(Backoff::default().attempts(0).max_attempts, 1);
    }

    #[test]
    fn a_server_wait_is_honoured_and_a_too_long_one_is_not_waited() {
        let b = Backoff::gateway_throttling();
        let w = Duration::from_secs(2);
        assert_eq!(b.delay(1, Some(w), &mut |_| 0), Some(w));
        assert_eq!(
            b.delay(1, Some(w), &mut |max| max),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(b.delay(1, Some(Duration::from_secs(61)), &mut |_| 0), None);
        assert_eq!(b.delay(4, Some(w), &mut |_| 0), None);
    }

    proptest! {
        #[test]
        fn a_delay_is_within_its_bounds(
            attempt in 1u32..40,
            max_attempts in 1u32..40,
            base_ms in 0u64..10_000,
            cap_ms in 0u64..100_000,
            wait_ms in proptest::option::of(0u64..120_000),
            pick in 0.0f64..=1.0,
        ) {
            let b = Backoff {
                max_attempts,
                base: Duration::from_millis(base_ms),
                cap: Duration::from_millis(cap_ms),
                max_wait: Duration::from_secs(60),
                seed: None,
            };
            let mut random = |max: u64| (max as f64 * pick) as u64;
            let d = b.delay(attempt, wait_ms.map(Duration::from_millis), &mut random);
            if attempt >= max_attempts {
                prop_assert_eq!(d, None);
            } else {
                match wait_ms {
                    Some(w) if w > 60_000 => prop_assert_eq!(d, None),
                    Some(w) => {
                        let d = d.unwrap();
                        prop_assert!(d >= Duration::from_millis(w));
                        prop_assert!(d <= Duration::from_millis(w + w / 4));
                    }
                    None => prop_assert!(d.unwrap() <= Duration::from_millis(cap_ms)),
                }
            }
        }
    }
}
