//! What every bulk job shares, whatever it asks: retries with backoff, the
//! audit record of each attempt, the calls in flight, and progress
//! reporting. The ANIST job ([`super::BulkJob`]) and the ISEE batch
//! ([`super::isee::IseeBatch`]) are built on it.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::task::Poll;
use std::time::{Duration, Instant};

use anist_core::ErrorCode;

use super::{BulkError, JobOptions, OutcomeCounts, Progress};
use crate::anist::AnistError;
use crate::audit::{AuditEntry, AuditError, AuditLog};
use crate::call::CallError;
use crate::clock::Clock;
use crate::isee::IseeError;
use crate::rng::SplitMix64;
use crate::transport::{budget, Backoff};

/// The error of one call, as a bulk job sees it.
pub(crate) trait CallFailure: ErrorCode + fmt::Display {
    /// Whether asking again later may succeed.
    fn is_retryable(&self) -> bool;
    /// The call error underneath, if any (for `Retry-After` and
    /// `govway_id`).
    fn call(&self) -> Option<&CallError>;
    /// Whether the quota is exhausted (the job pauses).
    fn is_quota_exceeded(&self) -> bool {
        matches!(self.call(), Some(CallError::QuotaExceeded { .. }))
    }
}

impl CallFailure for AnistError {
    fn is_retryable(&self) -> bool {
        AnistError::is_retryable(self)
    }

    fn call(&self) -> Option<&CallError> {
        match self {
            AnistError::Call(c) => Some(c),
            _ => None,
        }
    }
}

impl CallFailure for IseeError {
    fn is_retryable(&self) -> bool {
        IseeError::is_retryable(self)
    }

    fn call(&self) -> Option<&CallError> {
        match self {
            IseeError::Call(c) => Some(c),
            _ => None,
        }
    }
}

/// Whether a call that failed with the stable `code` may go otherwise
/// when asked again later: the network, a timeout, a 5xx, the gateway's
/// throttling or quota, the token (voucher) request refused or failed, a
/// massive job that failed or was not ready, INPS's database offline or
/// internal error. A resumed job asks these again; an answer about the
/// person (not found, refused by INPS, a 4xx of the gateway, an answer that
/// cannot be read) stays final.
pub(crate) fn is_transient(code: &str) -> bool {
    code.starts_with("voucher_")
        || code.starts_with("assertion_")
        || matches!(
            code,
            "call_not_sent"
                | "gateway_throttled"
                | "gateway_quota_exceeded"
                | "gateway_server_error"
                | "gateway_timeout"
                | "gateway_network"
                | "anist_job_failed"
                | "anist_job_not_ready"
                | "isee_database_offline"
                | "isee_errore_interno"
                | "random_failure"
        )
}

/// Why a run stopped early.
pub(crate) struct Pause {
    pub(crate) reason: String,
    pub(crate) code: &'static str,
}

impl Pause {
    pub(crate) fn of<E: CallFailure>(e: &E) -> Self {
        Pause {
            reason: e.to_string(),
            code: e.code(),
        }
    }

    /// The pause an exhausted quota calls for, if `r` failed with one.
    pub(crate) fn of_result<T, E: CallFailure>(r: &Result<T, E>) -> Option<Self> {
        r.as_ref()
            .err()
            .filter(|e| e.is_quota_exceeded())
            .map(Pause::of)
    }
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// How a call ended, once retried.
pub(crate) type Retried<T, E> = Result<Result<T, E>, AuditError>;

/// Retries and the audit record of a run.
pub(crate) struct Retrier<'a> {
    pub(crate) opts: &'a JobOptions,
    audit: Option<&'a AuditLog>,
    clock: &'a dyn Clock,
    rng: Mutex<SplitMix64>,
    pub(crate) retries: AtomicU64,
}

impl<'a> Retrier<'a> {
    /// The retries of a job with `opts`, recorded in `audit`, waiting by
    /// `clock` (the service's, [`crate::anist::AttendanceService::clock`]).
    pub(crate) fn new(
        opts: &'a JobOptions,
        audit: Option<&'a AuditLog>,
        clock: &'a dyn Clock,
    ) -> Self {
        Self {
            opts,
            audit,
            clock,
            rng: Mutex::new(SplitMix64::from_entropy()),
            retries: AtomicU64::new(0),
        }
    }

    /// The wait before asking again after `attempt` failed attempts: the
    /// one backoff ([`Backoff`]) with the job's base and cap; a gateway's
    /// `Retry-After` is always honoured (the job has no longer wait to
    /// give up on: it pauses on quota instead).
    fn backoff<E: CallFailure>(&self, attempt: u32, err: &E) -> Duration {
        let backoff = Backoff {
            max_attempts: u32::MAX,
            base: self.opts.backoff_base,
            cap: self.opts.backoff_cap,
            max_wait: Duration::MAX,
            seed: None,
        };
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        backoff
            .delay(
                attempt,
                err.call().and_then(ErrorCode::retry_after),
                &mut |max| rng.up_to(max),
            )
            .unwrap_or_default()
    }

    /// Runs `op` until it succeeds, fails for good, or the attempts run
    /// out; every attempt is recorded through `audit`.
    pub(crate) async fn retrying<T, E, Fut>(
        &self,
        mut op: impl FnMut() -> Fut,
        audit: impl Fn(&Result<T, E>) -> Result<(), AuditError>,
    ) -> Retried<T, E>
    where
        E: CallFailure,
        Fut: Future<Output = Result<T, E>>,
    {
        let max = self.opts.max_attempts.max(1);
        // One budget for the row: the retries of the layers below (the
        // token request, throttling, INPS's outages) spend it too.
        budget::scoped(max, async {
            let mut attempt = 0u32;
            loop {
                attempt += 1;
                let result = op().await;
                audit(&result)?;
                match result {
                    Err(e) if e.is_retryable() && attempt < max && budget::spend() => {
                        bump(&self.retries);
                        self.clock.sleep(self.backoff(attempt, &e)).await;
                    }
                    other => return Ok(other),
                }
            }
        })
        .await
    }

    /// Records one call in the audit trail (when there is one).
    pub(crate) fn record(
        &self,
        eservice: &str,
        operation: &str,
        subject: Option<&str>,
        outcome: &str,
        correlation_id: Option<&str>,
        govway_id: Option<&str>,
    ) -> Result<(), AuditError> {
        match self.audit {
            None => Ok(()),
            Some(log) => log
                .record(&AuditEntry {
                    operator: &self.opts.operator,
                    purpose: self
                        .opts
                        .purposes
                        .get(eservice)
                        .unwrap_or(&self.opts.purpose),
                    eservice,
                    operation,
                    subject,
                    outcome,
                    correlation_id,
                    govway_id,
                })
                .map(|_| ()),
        }
    }

    /// Records one call about one subject (or none) from its result.
    pub(crate) fn record_result<T, E: CallFailure>(
        &self,
        eservice: &str,
        operation: &str,
        subject: Option<&str>,
        correlation_id: Option<&str>,
        result: &Result<T, E>,
        ok_outcome: impl Fn(&T) -> &'static str,
    ) -> Result<(), AuditError> {
        match result {
            Ok(t) => self.record(
                eservice,
                operation,
                subject,
                ok_outcome(t),
                correlation_id,
                None,
            ),
            Err(e) => self.record(
                eservice,
                operation,
                subject,
                e.code(),
                correlation_id,
                e.call().and_then(CallError::govway_id),
            ),
        }
    }
}

pub(crate) type Task<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The calls in flight: polled together in the job's own task, so that
/// they may borrow the service (no spawning, no `'static`).
pub(crate) struct InFlight<'a, T> {
    pub(crate) tasks: Vec<Task<'a, T>>,
}

impl<T> InFlight<'_, T> {
    pub(crate) fn new() -> Self {
        Self { tasks: Vec::new() }
    }

    pub(crate) fn len(&self) -> usize {
        self.tasks.len()
    }

    /// The next call to finish, or `None` when none is in flight.
    pub(crate) async fn next(&mut self) -> Option<T> {
        if self.tasks.is_empty() {
            return None;
        }
        let tasks = &mut self.tasks;
        Some(
            poll_fn(|cx| {
                for i in 0..tasks.len() {
                    if let Poll::Ready(v) = tasks[i].as_mut().poll(cx) {
                        drop(tasks.swap_remove(i));
                        return Poll::Ready(v);
                    }
                }
                Poll::Pending
            })
            .await,
        )
    }
}

/// What one call (with its retries) gave.
pub(crate) enum Asked<A> {
    /// Journal this answer of the item with this id.
    Answer(i64, A),
    /// The quota is exhausted: nothing to journal.
    Quota(Pause),
}

/// A call in flight, as [`pump`] holds it.
pub(crate) type AskTask<'a, A> = Task<'a, Result<Asked<A>, AuditError>>;

/// Asks every pending item of a journal, at most `limit` calls at a time:
/// `window(journal, after, n)` reads up to `n` pending items with an id
/// above `after` (ids ascending), `ask(id, item)` makes the call, and
/// `store(journal, id, answer)` journals an answer (committed before it is
/// counted). At the first exhausted quota no new call starts; the calls
/// in flight are awaited and journaled, and the quota is returned.
pub(crate) async fn pump<'a, J, Q, A>(
    journal: &mut J,
    limit: usize,
    window: impl Fn(&J, i64, usize) -> Result<Vec<(i64, Q)>, BulkError>,
    mut ask: impl FnMut(i64, Q) -> Result<AskTask<'a, A>, BulkError>,
    mut store: impl FnMut(&mut J, i64, A) -> Result<(), BulkError>,
) -> Result<Option<Pause>, BulkError> {
    let limit = limit.max(1);
    let mut cursor = 0i64;
    let mut queue: VecDeque<(i64, Q)> = VecDeque::new();
    let mut exhausted = false;
    let mut pause: Option<Pause> = None;
    let mut inflight = InFlight::new();
    loop {
        while pause.is_none() && inflight.len() < limit {
            if queue.is_empty() {
                if exhausted {
                    break;
                }
                let next = window(journal, cursor, WINDOW)?;
                match next.last() {
                    None => {
                        exhausted = true;
                        break;
                    }
                    Some((last, _)) => cursor = *last,
                }
                queue.extend(next);
            }
            let Some((id, item)) = queue.pop_front() else {
                break;
            };
            inflight.tasks.push(ask(id, item)?);
        }
        let Some(done) = inflight.next().await else {
            break;
        };
        match done? {
            Asked::Answer(id, answer) => store(journal, id, answer)?,
            Asked::Quota(p) => {
                pause.get_or_insert(p);
            }
        }
    }
    Ok(pause)
}

/// Items read from a journal at a time (the memory window).
pub(crate) const WINDOW: usize = 512;

/// Rows per outcome, as a job counts them.
pub trait Counts: Copy + Default + PartialEq + fmt::Debug {
    /// Adds `n` rows to the count of `esito` (an unknown name counts as
    /// an error).
    fn add(&mut self, esito: &str, n: u64);
    /// All rows counted.
    fn total(&self) -> u64;
}

impl Counts for OutcomeCounts {
    fn add(&mut self, esito: &str, n: u64) {
        OutcomeCounts::add(self, esito, n);
    }

    fn total(&self) -> u64 {
        OutcomeCounts::total(self)
    }
}

/// Progress bookkeeping and throttled reporting.
pub(crate) struct Tracker<'p, C: Counts, P: Fn(&Progress<C>)> {
    pub(crate) progress: &'p P,
    pub(crate) interval: Duration,
    pub(crate) total: u64,
    pub(crate) done: u64,
    pub(crate) done_at_start: u64,
    pub(crate) counts: C,
    pub(crate) start: Instant,
    pub(crate) last: Option<Instant>,
}

impl<'p, C: Counts, P: Fn(&Progress<C>)> Tracker<'p, C, P> {
    /// A tracker of `total` rows of which `counts` are done.
    pub(crate) fn new(progress: &'p P, interval: Duration, total: u64, counts: C) -> Self {
        let done = counts.total();
        Self {
            progress,
            interval,
            total,
            done,
            done_at_start: done,
            counts,
            start: Instant::now(),
            last: None,
        }
    }

    pub(crate) fn finished(&mut self, esito: &str, rows: u64) {
        self.counts.add(esito, rows);
        self.done += rows;
        self.tick(false);
    }

    pub(crate) fn tick(&mut self, force: bool) {
        let now = Instant::now();
        if !force
            && self
                .last
                .is_some_and(|l| now.duration_since(l) < self.interval)
        {
            return;
        }
        self.last = Some(now);
        let elapsed = now.duration_since(self.start).as_secs_f64();
        let run_done = self.done.saturating_sub(self.done_at_start);
        let rate = if elapsed > 0.0 {
            run_done as f64 / elapsed
        } else {
            0.0
        };
        let left = self.total.saturating_sub(self.done);
        let eta = if left == 0 {
            Some(Duration::ZERO)
        } else if rate > 0.0 {
            Some(Duration::from_secs_f64(left as f64 / rate))
        } else {
            None
        };
        (self.progress)(&Progress {
            rows_done: self.done,
            rows_total: self.total,
            outcomes: self.counts,
            rate,
            eta,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::bulk::JobOptions;
    use crate::clock::Sleep;

    /// Records the waits asked of it and returns at once.
    #[derive(Default)]
    struct Recording(Mutex<Vec<Duration>>);

    impl Clock for Recording {
        fn now(&self) -> i64 {
            1_764_000_000
        }

        fn sleep(&self, d: Duration) -> Sleep {
            self.0.lock().unwrap().push(d);
            Box::pin(std::future::ready(()))
        }
    }

    #[tokio::test]
    async fn a_job_waits_between_its_retries_by_the_service_s_clock() {
        let opts = JobOptions {
            max_attempts: 3,
            backoff_base: Duration::from_secs(5),
            backoff_cap: Duration::from_secs(60),
            ..JobOptions::default()
        };
        let clock = Recording::default();
        let r = Retrier::new(&opts, None, &clock);
        let calls = AtomicU64::new(0);
        let outcome: Retried<(), AnistError> = r
            .retrying(
                || {
                    calls.fetch_add(1, Ordering::Relaxed);
                    async {
                        Err(AnistError::Call(CallError::Network {
                            sent: anist_core::Sent::No,
                            reason: "refused".into(),
                        }))
                    }
                },
                |_| Ok(()),
            )
            .await;
        assert!(matches!(outcome, Ok(Err(_))));
        assert_eq!(calls.load(Ordering::Relaxed), 3);
        let waits = clock.0.lock().unwrap().clone();
        // Two waits, full jitter under 5 s then 10 s, none slept for real.
        assert_eq!(waits.len(), 2, "{waits:?}");
        assert!(waits[0] <= Duration::from_secs(5), "{waits:?}");
        assert!(waits[1] <= Duration::from_secs(10), "{waits:?}");
        assert_eq!(r.retries.load(Ordering::Relaxed), 2);
    }
}
