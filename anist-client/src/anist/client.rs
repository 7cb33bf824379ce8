//! [`AnistClient`]: the ANIST attendance services over a [`Session`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use anist_core::attendance::{Frequenza, Verifica};
use chrono::{DateTime, NaiveDate};

use super::codec::{self, accertamento, massiva, verifica};
use super::{
    AnistError, Answer, AttendanceService, JobId, JobStatus, Query, RowAnswer, YearSelector,
    ACCERTAMENTO, ACCERTAMENTO_MASSIVO, VERIFICA, VERIFICA_MASSIVA,
};
use crate::audit::{AuditLog, LookupCall};
use crate::call::CallError;
use crate::clock::{Clock, SystemClock};
use crate::session::Session;
use anist_core::ErrorCode;

/// The ANIST attendance services through a [`Session`] whose e-services
/// are named [`VERIFICA`], [`ACCERTAMENTO`], [`VERIFICA_MASSIVA`] and
/// [`ACCERTAMENTO_MASSIVO`]. Cheap to clone; share one per session.
///
/// ```no_run
/// use std::sync::Arc;
/// use anist_client::anist::{AnistClient, Answer, AttendanceService, Query};
/// use anist_client::session::Session;
/// use anist_core::cf::CodiceFiscale;
///
/// # async fn run(session: Arc<Session>) -> Result<(), Box<dyn std::error::Error>> {
/// let anist = AnistClient::new(session);
/// let cf = CodiceFiscale::parse("RSSMRA80A01H501U")?;
/// match anist.verify(&Query::by_cf(cf)).await? {
///     Answer::Found(v) => assert!(v.frequentante || !v.frequentante),
///     Answer::NotFound => {}
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AnistClient {
    session: Arc<Session>,
    clock: Arc<dyn Clock>,
    /// Job id → result path, learnt from the `303` of a poll.
    results: Arc<Mutex<HashMap<JobId, String>>>,
    /// Where each single lookup is recorded, when set.
    audit: Option<Arc<AuditLog>>,
}

impl fmt::Debug for AnistClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnistClient")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// Which massive e-service a job belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Verify,
    Ascertain,
}

impl Kind {
    fn service(self) -> &'static str {
        match self {
            Kind::Verify => VERIFICA_MASSIVA,
            Kind::Ascertain => ACCERTAMENTO_MASSIVO,
        }
    }
}

impl AnistClient {
    /// A client over `session`, on the system clock.
    pub fn new(session: Arc<Session>) -> Self {
        Self {
            session,
            clock: Arc::new(SystemClock),
            results: Arc::default(),
            audit: None,
        }
    }

    /// Records every single lookup ([`AttendanceService::verify`],
    /// [`AttendanceService::ascertain`]) in `audit`: who, under which
    /// purpose, about whom (a keyed hash), with which outcome. A lookup
    /// whose row cannot be written fails with [`AnistError::Audit`].
    /// Massive jobs are recorded by the bulk engine, not here.
    #[must_use]
    pub fn with_audit(mut self, audit: Arc<AuditLog>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Records a single lookup's outcome when an audit trail is set.
    fn audited<T>(
        &self,
        eservice: &str,
        operation: &str,
        query: &Query,
        result: Result<Answer<T>, AnistError>,
    ) -> Result<Answer<T>, AnistError> {
        let Some(audit) = &self.audit else {
            return result;
        };
        let govway = match &result {
            Err(AnistError::Call(e)) => e.govway_id(),
            Err(AnistError::Rejected { govway_id, .. }) => govway_id.as_deref(),
            _ => None,
        };
        let outcome = match &result {
            Ok(Answer::Found(_)) => "found",
            Ok(Answer::NotFound) => "not_found",
            Err(e) => e.code(),
        };
        audit.record_lookup(
            &self.session,
            &LookupCall {
                eservice,
                operation,
                subject: query.subject.as_str(),
                outcome,
                correlation_id: None,
                govway_id: govway,
            },
        )?;
        result
    }

    /// Reads today's date (for [`super::YearSelector::Previous`]) from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// Today (UTC) on the client's clock.
    pub fn today(&self) -> NaiveDate {
        DateTime::from_timestamp(self.clock.now(), 0)
            .map(|d| d.date_naive())
            .unwrap_or_default()
    }

    /// `query` as sent: [`YearSelector::Previous`] is the year before the
    /// session's current school year when the session names one
    /// ([`Session::current_school_year`], e.g. a sandbox started for a
    /// given year), otherwise the year before the one containing today.
    pub fn resolve(&self, query: &Query) -> Query {
        match (query.year, self.session.school_year()) {
            (YearSelector::Previous, Some(current)) => {
                query.year(YearSelector::Explicit(current.previous()))
            }
            _ => *query,
        }
    }

    fn job_parts<'j>(&self, job: &'j JobId) -> Result<(Kind, &'j str, usize), AnistError> {
        let invalid = || {
            AnistError::InvalidJob {
            reason: "the job id is not `<massive service>:<path>#<rows>` as made by submit_verify / submit_ascertain".into(),
        }
        };
        let (service, path, rows) = job.parts().ok_or_else(invalid)?;
        let kind = match service {
            VERIFICA_MASSIVA => Kind::Verify,
            ACCERTAMENTO_MASSIVO => Kind::Ascertain,
            _ => return Err(invalid()),
        };
        Ok((kind, path, rows))
    }

    async fn submit(&self, kind: Kind, queries: &[Query]) -> Result<JobId, AnistError> {
        let service = kind.service();
        // Refuses early, with the configuration hint, when it is missing.
        let url = self.session.lookup(service)?.profile().url().to_string();
        if queries.is_empty() {
            return Err(CallError::NotSent {
                reason: "a massive job needs at least one query".into(),
            }
            .into());
        }
        let resolved: Vec<Query> = queries.iter().map(|q| self.resolve(q)).collect();
        let body = massiva::encode_submit(&resolved, self.today());
        let resp = self
            .session
            .post_json(service, massiva::SUBMIT_PATH, &body)
            .await?;
        let id = massiva::decode_accepted(resp.status(), resp.body())?;
        let path = match resp.location() {
            Some(location) => massiva::resolve_location(&url, location).map_err(|reason| {
                AnistError::Unexpected {
                    status: resp.status(),
                    reason,
                }
            })?,
            None => massiva::status_path(&id),
        };
        Ok(JobId::new(service, &path, queries.len()))
    }

    async fn status(&self, job: &JobId) -> Result<JobStatus, AnistError> {
        let (kind, path, _) = self.job_parts(job)?;
        let service = kind.service();
        let url = self.session.lookup(service)?.profile().url().to_string();
        let resp = self.session.get(service, path).await?;
        let status = resp.status();
        if status == 303 {
            let Some(location) = resp.location() else {
                return Err(AnistError::Unexpected {
                    status,
                    reason: "303 See Other without a Location".into(),
                });
            };
            let result = massiva::resolve_location(&url, location)
                .map_err(|reason| AnistError::Unexpected { status, reason })?;
            self.remember(job, result);
            return Ok(JobStatus::Done);
        }
        if status != 200 {
            return Err(AnistError::Unexpected {
                status,
                reason: "the massive job status answered neither 200 nor 303".into(),
            });
        }
        match massiva::decode_progress(status, resp.body())? {
            massiva::Progress::Processing => Ok(JobStatus::Processing),
            massiva::Progress::Done => {
                self.remember(job, format!("{path}/result"));
                Ok(JobStatus::Done)
            }
            massiva::Progress::Failed(reason) => Err(AnistError::JobFailed { reason }),
        }
    }

    fn remember(&self, job: &JobId, result: String) {
        self.results
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(job.clone(), result);
    }

    async fn result_body(
        &self,
        job: &JobId,
        want: Kind,
    ) -> Result<(u16, Vec<u8>, usize), AnistError> {
        let (kind, _, submitted) = self.job_parts(job)?;
        if kind != want {
            return Err(AnistError::InvalidJob {
                reason: match kind {
                    Kind::Verify => "this is a massive verification: fetch it with fetch_verify",
                    Kind::Ascertain => {
                        "this is a massive ascertainment: fetch it with fetch_ascertain"
                    }
                }
                .into(),
            });
        }
        let known = self
            .results
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(job)
            .cloned();
        let path = match known {
            Some(p) => p,
            None => {
                if self.status(job).await? == JobStatus::Processing {
                    return Err(AnistError::JobNotReady);
                }
                self.results
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get(job)
                    .cloned()
                    .ok_or(AnistError::JobNotReady)?
            }
        };
        let resp = self.session.get(kind.service(), &path).await?;
        Ok((resp.status(), resp.body().to_vec(), submitted))
    }
}

/// One row per query submitted, or [`AnistError::Unexpected`].
fn same_count<T>(
    status: u16,
    rows: Vec<RowAnswer<T>>,
    submitted: usize,
) -> Result<Vec<RowAnswer<T>>, AnistError> {
    if rows.len() == submitted {
        Ok(rows)
    } else {
        Err(AnistError::Unexpected {
            status,
            reason: format!(
                "the massive result has {} rows for {submitted} queries submitted",
                rows.len()
            ),
        })
    }
}

impl AttendanceService for AnistClient {
    fn clock(&self) -> &dyn crate::clock::Clock {
        self.session().clock()
    }

    async fn verify(&self, query: &Query) -> Result<Answer<Verifica>, AnistError> {
        let body = verifica::encode(&self.resolve(query), self.today());
        let result = match self
            .session
            .post_json(VERIFICA, verifica::PATH, &body)
            .await
        {
            Ok(resp) => verifica::decode(resp.status(), resp.body()).map(Answer::Found),
            Err(e) => codec::not_found_or(e),
        };
        self.audited(VERIFICA, "verify", query, result)
    }

    async fn ascertain(&self, query: &Query) -> Result<Answer<Frequenza>, AnistError> {
        let body = accertamento::encode(&self.resolve(query), self.today());
        let result = match self
            .session
            .post_json(ACCERTAMENTO, accertamento::PATH, &body)
            .await
        {
            Ok(resp) => accertamento::decode(resp.status(), resp.body()).map(Answer::Found),
            Err(e) => codec::not_found_or(e),
        };
        self.audited(ACCERTAMENTO, "ascertain", query, result)
    }

    fn has_massive(&self) -> bool {
        self.session.has_service(VERIFICA_MASSIVA) && self.session.has_service(ACCERTAMENTO_MASSIVO)
    }

    async fn submit_verify(&self, queries: &[Query]) -> Result<JobId, AnistError> {
        self.submit(Kind::Verify, queries).await
    }

    async fn submit_ascertain(&self, queries: &[Query]) -> Result<JobId, AnistError> {
        self.submit(Kind::Ascertain, queries).await
    }

    async fn poll(&self, job: &JobId) -> Result<JobStatus, AnistError> {
        self.status(job).await
    }

    async fn fetch_verify(&self, job: &JobId) -> Result<Vec<RowAnswer<Verifica>>, AnistError> {
        let (status, body, submitted) = self.result_body(job, Kind::Verify).await?;
        same_count(
            status,
            massiva::decode_verify_rows(status, &body)?,
            submitted,
        )
    }

    async fn fetch_ascertain(&self, job: &JobId) -> Result<Vec<RowAnswer<Frequenza>>, AnistError> {
        let (status, body, submitted) = self.result_body(job, Kind::Ascertain).await?;
        same_count(
            status,
            massiva::decode_ascertain_rows(status, &body)?,
            submitted,
        )
    }
}
