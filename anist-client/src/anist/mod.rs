//! The ANIST attendance e-services (protocol reference §8, U7–U10):
//! verification (`frequentante` yes / no), ascertainment (the detailed
//! record), the last status in the current or previous school year, and
//! the massive variants as submit → poll → fetch (ModI NONBLOCK_PULL).
//!
//! Callers use the [`AttendanceService`] trait; the wire shapes live in one
//! codec module per e-service, so that the real OpenAPI (downloadable only
//! from the PDND catalogue) can replace the assumed ones without touching
//! callers.
//!
//! "Not found" is an answer ([`Answer::NotFound`]), never an error, and an
//! error is never "not attending" (U9).

use std::future::Future;

use anist_core::anpr::IdAnpr;
use anist_core::attendance::{Frequenza, Verifica};
use anist_core::cf::CodiceFiscale;
use anist_core::meccanografico::CodiceMeccanografico;
use anist_core::school::SchoolYear;
use anist_core::{CodeSamples, ErrorCode, ErrorKind};

use crate::call::CallError;

mod client;
pub mod codec;

pub use client::AnistClient;

/// Session service name of "ANIST - Frequenze" (verifica frequenze).
pub const VERIFICA: &str = "anist-verifica";
/// Session service name of "ANIST - Accertamento Frequenze".
pub const ACCERTAMENTO: &str = "anist-accertamento";
/// Session service name of "ANIST - Verifica Massiva Frequenze".
pub const VERIFICA_MASSIVA: &str = "anist-verifica-massiva";
/// Session service name of "ANIST - Accertamento Massivo Frequenze".
pub const ACCERTAMENTO_MASSIVO: &str = "anist-accertamento-massivo";

/// Whom a query is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// By codice fiscale.
    CodiceFiscale(CodiceFiscale),
    /// By ID ANPR.
    IdAnpr(IdAnpr),
}

impl Subject {
    /// The code as typed (personal data: never log it).
    pub fn as_str(&self) -> &str {
        match self {
            Subject::CodiceFiscale(cf) => cf.as_str(),
            Subject::IdAnpr(id) => id.as_str(),
        }
    }
}

/// Which school year a query is about (U8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum YearSelector {
    /// The current school year (the service's notion of "current").
    #[default]
    Current,
    /// The previous school year.
    Previous,
    /// An explicit school year.
    Explicit(SchoolYear),
}

/// One question to ANIST about one pupil.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Query {
    /// Whom.
    pub subject: Subject,
    /// Only at this school (codice meccanografico), when given.
    pub school: Option<CodiceMeccanografico>,
    /// Which school year.
    pub year: YearSelector,
}

impl Query {
    /// A query about `cf` in the current school year, at any school.
    pub fn by_cf(cf: CodiceFiscale) -> Self {
        Self {
            subject: Subject::CodiceFiscale(cf),
            school: None,
            year: YearSelector::Current,
        }
    }

    /// The same query for another school year.
    #[must_use]
    pub fn year(mut self, year: YearSelector) -> Self {
        self.year = year;
        self
    }

    /// The same query restricted to a school.
    #[must_use]
    pub fn school(mut self, school: CodiceMeccanografico) -> Self {
        self.school = Some(school);
        self
    }
}

/// What the service answered about one pupil.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    /// Data.
    Found(T),
    /// The service has no data about the pupil (U9): an answer, not an error.
    NotFound,
}

/// Why an ANIST question got no answer. Every variant has a stable
/// [`ErrorCode::code`]; messages carry no codice fiscale.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnistError {
    /// The call failed (not sent, refused, quota, throttled, server error,
    /// timeout, network): see [`CallError`].
    #[error(transparent)]
    Call(#[from] CallError),
    /// ANIST refused the question itself (400 with its own reason, e.g.
    /// `codiceMeccanografico non censito`): the reason is the service's
    /// text, identifiers masked.
    #[error("ANIST refused the question: {reason}: check the codice fiscale or ID ANPR, the codice meccanografico and the school year asked (govway_id {})", .govway_id.as_deref().unwrap_or("absent"))]
    Rejected {
        /// What the service said.
        reason: String,
        /// The gateway's transaction id, when sent.
        govway_id: Option<String>,
    },
    /// The service answered something its codec cannot read.
    #[error("ANIST answered something that cannot be read (status {status}): {reason}")]
    Unexpected {
        /// HTTP status.
        status: u16,
        /// What is wrong.
        reason: String,
    },
    /// A massive job failed or expired on the service side.
    #[error("the ANIST massive job failed: {reason}")]
    JobFailed {
        /// What the service said.
        reason: String,
    },
    /// A massive job is still being processed: poll it until it is done,
    /// then fetch its result.
    #[error("the ANIST massive job is still being processed: poll it until it is done, then fetch the result")]
    JobNotReady,
    /// The job id is not one this client made, or was fetched with the
    /// wrong method (a verification job with `fetch_ascertain`…).
    #[error("this massive job cannot be used here: {reason}")]
    InvalidJob {
        /// Why.
        reason: String,
    },
    /// The service reported an error for one row of a massive job (the
    /// other rows are unaffected). Identifiers in its message are masked.
    #[error("ANIST reported an error for this row: {reason}")]
    RowFailed {
        /// What the service said.
        reason: String,
    },
    /// The audit trail could not record the lookup: its answer is not
    /// given (nothing is reported that is not recorded).
    #[error("{message}")]
    Audit {
        /// The audit error's stable code (`audit_*`).
        code: &'static str,
        /// Its message (what to do next).
        message: String,
    },
}

impl From<crate::audit::AuditError> for AnistError {
    fn from(e: crate::audit::AuditError) -> Self {
        AnistError::Audit {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl ErrorCode for AnistError {
    fn code(&self) -> &'static str {
        match self {
            AnistError::Call(e) => e.code(),
            AnistError::Rejected { .. } => "anist_request_rejected",
            AnistError::Unexpected { .. } => "anist_unexpected_answer",
            AnistError::JobFailed { .. } => "anist_job_failed",
            AnistError::JobNotReady => "anist_job_not_ready",
            AnistError::InvalidJob { .. } => "anist_invalid_job",
            AnistError::RowFailed { .. } => "anist_row_failed",
            AnistError::Audit { code, .. } => code,
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            AnistError::Call(e) => e.kind(),
            AnistError::Rejected { .. } => ErrorKind::Refused,
            AnistError::Unexpected { .. } => ErrorKind::UnexpectedAnswer,
            AnistError::JobFailed { .. }
            | AnistError::InvalidJob { .. }
            | AnistError::RowFailed { .. } => ErrorKind::Job,
            AnistError::JobNotReady => ErrorKind::JobNotReady,
            AnistError::Audit { .. } => ErrorKind::Audit,
        }
    }

    fn request_sent(&self) -> Option<anist_core::Sent> {
        match self {
            AnistError::Call(e) => e.request_sent(),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            AnistError::Call(e) => ErrorCode::retry_after(e),
            _ => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for AnistError {
    fn samples() -> Vec<Self> {
        let mut v: Vec<AnistError> = CallError::samples()
            .into_iter()
            .map(AnistError::Call)
            .collect();
        v.extend([
            AnistError::Rejected {
                reason: "codiceMeccanografico non censito".into(),
                govway_id: None,
            },
            AnistError::Unexpected {
                status: 200,
                reason: "not JSON".into(),
            },
            AnistError::JobFailed {
                reason: "expired".into(),
            },
            AnistError::JobNotReady,
            AnistError::InvalidJob {
                reason: "not a job id of this client".into(),
            },
            AnistError::RowFailed {
                reason: "codice fiscale non valido".into(),
            },
        ]);
        v.extend(
            crate::audit::AuditError::samples()
                .into_iter()
                .map(AnistError::from),
        );
        v
    }
}

impl AnistError {
    /// Whether the daily quota is exhausted (the bulk job pauses).
    pub fn is_quota_exceeded(&self) -> bool {
        matches!(self, AnistError::Call(CallError::QuotaExceeded { .. }))
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            AnistError::Call(e) => e.is_retryable(),
            _ => false,
        }
    }
}

/// The identifier of a massive job: which massive e-service runs it,
/// where its status is and how many queries were submitted, written
/// `<service name>:<status path relative to the e-service URL>#<rows>`
/// (e.g. `anist-verifica-massiva:frequenze/massiva/42#1000`), so that a
/// job can be polled and fetched from its id alone (e.g. after a restart)
/// and its result checked. Treat it as opaque; store it as is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId(pub String);

impl JobId {
    /// The job of e-service `service` whose status is at `path`, for
    /// `rows` queries.
    pub fn new(service: &str, path: &str, rows: usize) -> Self {
        JobId(format!("{service}:{path}#{rows}"))
    }

    /// The session service name of the massive e-service, if well formed.
    pub fn service(&self) -> Option<&str> {
        self.parts().map(|(s, _, _)| s)
    }

    /// The status path relative to the e-service URL, if well formed.
    pub fn path(&self) -> Option<&str> {
        self.parts().map(|(_, p, _)| p)
    }

    /// How many queries were submitted, if well formed.
    pub fn rows(&self) -> Option<usize> {
        self.parts().map(|(_, _, n)| n)
    }

    pub(crate) fn parts(&self) -> Option<(&str, &str, usize)> {
        let (service, rest) = self.0.split_once(':')?;
        let (path, rows) = rest.rsplit_once('#')?;
        let rows = rows.parse().ok()?;
        (!service.is_empty() && !path.is_empty()).then_some((service, path, rows))
    }
}

/// Where a massive job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    /// Still being processed; poll again later.
    Processing,
    /// Done; fetch the result.
    Done,
}

/// One row of a massive answer: the answer for the query at the same
/// index, or the error the service reported for that row.
pub type RowAnswer<T> = Result<Answer<T>, AnistError>;

/// The ANIST attendance services. Implemented over a [`crate::session::Session`]
/// by the real client, and by fakes in tests.
pub trait AttendanceService: Send + Sync {
    /// The clock a job waits between its retries by (the session's for
    /// the real client; the system's, on tokio's timer, by default).
    fn clock(&self) -> &dyn crate::clock::Clock {
        &crate::clock::SystemClock
    }

    /// Verification (verifica frequenze): attending or not.
    fn verify(
        &self,
        query: &Query,
    ) -> impl Future<Output = Result<Answer<Verifica>, AnistError>> + Send;

    /// Ascertainment (accertamento frequenze): the detailed record, for the
    /// query's school year (the "last status" for `Current` / `Previous`).
    fn ascertain(
        &self,
        query: &Query,
    ) -> impl Future<Output = Result<Answer<Frequenza>, AnistError>> + Send;

    /// Whether the massive services are configured (otherwise the bulk job
    /// uses concurrent single calls).
    fn has_massive(&self) -> bool;

    /// Submits a massive verification of `queries`.
    fn submit_verify(
        &self,
        queries: &[Query],
    ) -> impl Future<Output = Result<JobId, AnistError>> + Send;

    /// Submits a massive ascertainment of `queries`.
    fn submit_ascertain(
        &self,
        queries: &[Query],
    ) -> impl Future<Output = Result<JobId, AnistError>> + Send;

    /// Where a massive job stands.
    fn poll(&self, job: &JobId) -> impl Future<Output = Result<JobStatus, AnistError>> + Send;

    /// The result of a finished massive verification, one row per query
    /// submitted, in order.
    fn fetch_verify(
        &self,
        job: &JobId,
    ) -> impl Future<Output = Result<Vec<RowAnswer<Verifica>>, AnistError>> + Send;

    /// The result of a finished massive ascertainment, one row per query
    /// submitted, in order.
    fn fetch_ascertain(
        &self,
        job: &JobId,
    ) -> impl Future<Output = Result<Vec<RowAnswer<Frequenza>>, AnistError>> + Send;
}
