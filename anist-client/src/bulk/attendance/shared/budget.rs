//! The ente's rate budget and daily quota, shared by every worker through
//! the store ([`JobStore::reserve`]): an attendance service whose every
//! call (retries included: the gateway counts them) first takes a slot of
//! the database's schedule, then waits for it.
//!
//! Slots are reserved [`BLOCK`] at a time (one statement for several
//! calls: leased shares of the shared bucket). A slot more than two
//! intervals late is dropped, never sent: it would fall on other workers'
//! slots and exceed the rate. A worker may so leave up to `BLOCK - 1`
//! calls of the daily quota unused; it never exceeds it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::store::{JobStore, Reservation};
use crate::anist::{
    AnistError, Answer, AttendanceService, JobId, JobStatus, Query, RowAnswer, ACCERTAMENTO,
    VERIFICA,
};
use crate::call::{CallError, GatewayProblem};
use anist_core::attendance::{Frequenza, Verifica};

/// The budget of one e-service, as the ente's PDND agreement gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Calls per second, every worker together (evenly paced).
    pub per_second: f64,
    /// Calls per day (UTC), every worker together.
    pub daily: u64,
}

/// Slots reserved at a time.
pub(crate) const BLOCK: u64 = 4;

/// `svc` with every single call paced by the shared budget.
pub(crate) struct Budgeted<'a, S> {
    pub(crate) svc: &'a S,
    pub(crate) store: Arc<JobStore>,
    pub(crate) budget: Budget,
    /// Slots reserved and not yet used, per e-service, in time order.
    pub(crate) slots: Mutex<HashMap<&'static str, VecDeque<Instant>>>,
}

impl<'a, S> Budgeted<'a, S> {
    pub(crate) fn new(svc: &'a S, store: Arc<JobStore>, budget: Budget) -> Self {
        Self {
            svc,
            store,
            budget,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn interval(&self) -> Duration {
        if self.budget.per_second > 0.0 {
            Duration::from_secs_f64(1.0 / self.budget.per_second)
        } else {
            Duration::ZERO
        }
    }

    /// The next reserved slot of `eservice` still to come (late ones
    /// dropped).
    fn take_slot(&self, eservice: &'static str) -> Option<Instant> {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let queue = slots.entry(eservice).or_default();
        if self.interval().is_zero() {
            // A daily quota without a rate: a slot is never late.
            return queue.pop_front();
        }
        let now = Instant::now();
        // A little late is a shift, not a burst; later than two intervals
        // it would fall on others' slots.
        let late = self.interval() * 2;
        while let Some(at) = queue.pop_front() {
            if at + late >= now {
                return Some(at);
            }
        }
        None
    }

    fn keep_slots(&self, eservice: &'static str, slots: impl Iterator<Item = Instant>) {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(eservice)
            .or_default()
            .extend(slots);
    }
}

fn quota_spent() -> AnistError {
    AnistError::Call(CallError::QuotaExceeded {
        reset: None,
        problem: Box::new(GatewayProblem {
            status: 429,
            title: Some(String::from("LimitExceeded")),
            detail: Some(String::from(
                "the ente's daily quota, shared by its workers, is spent",
            )),
            ..GatewayProblem::default()
        }),
    })
}

impl<S: AttendanceService> Budgeted<'_, S> {
    /// Waits for a slot of `eservice`, or says the quota is spent. A slot
    /// the store cannot give is a call not sent (retried by the job).
    async fn slot(&self, eservice: &'static str) -> Result<(), AnistError> {
        let at = match self.take_slot(eservice) {
            Some(at) => at,
            None => self.reserve(eservice)?,
        };
        let wait = at.saturating_duration_since(Instant::now());
        if wait > Duration::ZERO {
            self.svc.clock().sleep(wait).await;
        }
        Ok(())
    }

    /// Reserves a block of slots (one when the quota has less left); the
    /// first, the others kept.
    fn reserve(&self, eservice: &'static str) -> Result<Instant, AnistError> {
        let (per_second, daily) = (self.budget.per_second, self.budget.daily);
        let mut n = BLOCK;
        let reserved = loop {
            match self.store.reserve(eservice, per_second, daily, n) {
                Ok(Reservation::QuotaSpent) if n > 1 => n = 1,
                other => break other,
            }
        };
        match reserved {
            Ok(Reservation::After(wait)) => {
                let first = Instant::now() + wait;
                let step = self.interval();
                self.keep_slots(eservice, (1..n).map(|k| first + step * k as u32));
                Ok(first)
            }
            Ok(Reservation::QuotaSpent) => Err(quota_spent()),
            Err(e) => Err(AnistError::Call(CallError::NotSent {
                reason: format!("the shared rate budget could not be read: {e}"),
            })),
        }
    }
}

impl<S: AttendanceService> AttendanceService for Budgeted<'_, S> {
    fn clock(&self) -> &dyn crate::clock::Clock {
        self.svc.clock()
    }

    async fn verify(&self, query: &Query) -> Result<Answer<Verifica>, AnistError> {
        self.slot(VERIFICA).await?;
        self.svc.verify(query).await
    }

    async fn ascertain(&self, query: &Query) -> Result<Answer<Frequenza>, AnistError> {
        self.slot(ACCERTAMENTO).await?;
        self.svc.ascertain(query).await
    }

    /// Shared jobs use single calls (their unit of work is a question).
    fn has_massive(&self) -> bool {
        false
    }

    async fn submit_verify(&self, queries: &[Query]) -> Result<JobId, AnistError> {
        self.svc.submit_verify(queries).await
    }

    async fn submit_ascertain(&self, queries: &[Query]) -> Result<JobId, AnistError> {
        self.svc.submit_ascertain(queries).await
    }

    async fn poll(&self, job: &JobId) -> Result<JobStatus, AnistError> {
        self.svc.poll(job).await
    }

    async fn fetch_verify(&self, job: &JobId) -> Result<Vec<RowAnswer<Verifica>>, AnistError> {
        self.svc.fetch_verify(job).await
    }

    async fn fetch_ascertain(&self, job: &JobId) -> Result<Vec<RowAnswer<Frequenza>>, AnistError> {
        self.svc.fetch_ascertain(job).await
    }
}
