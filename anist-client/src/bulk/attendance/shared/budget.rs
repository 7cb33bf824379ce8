//! The ente's rate budget and daily quota, shared by every worker through
//! the store ([`JobStore::reserve`]): an attendance service whose every
//! call (retries included: the gateway counts them) first reserves its
//! slot of the database's schedule (one statement), then waits for it.
//!
//! One slot per call, reserved when the call is about to go: a slot
//! reserved ahead and not used in time would either be sent late, on
//! another worker's slot, or be lost, and lost slots push every worker's
//! schedule ahead of the clock (measured: with blocks of four, a worker
//! slowed down for a moment wasted most of its slots, the schedule ran
//! seconds ahead, leases expired and questions were asked twice).

use std::sync::Arc;
use std::time::Duration;

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

/// `svc` with every single call paced by the shared budget.
pub(crate) struct Budgeted<'a, S> {
    pub(crate) svc: &'a S,
    pub(crate) store: Arc<JobStore>,
    pub(crate) budget: Budget,
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
    async fn slot(&self, eservice: &str) -> Result<(), AnistError> {
        match self
            .store
            .reserve(eservice, self.budget.per_second, self.budget.daily)
        {
            Ok(Reservation::After(wait)) => {
                if wait > Duration::ZERO {
                    self.svc.clock().sleep(wait).await;
                }
                Ok(())
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
