//! The error vocabulary of the whole workspace.
//!
//! Each error enum implements [`ErrorCode`]: a stable, snake-case `code()`
//! that never changes once released, the [`ErrorKind`] it belongs to, and,
//! where they apply, the 1-based character position, whether the request
//! reached the server ([`Sent`]) and the wait the server asked for.
//!
//! The bindings render the kind, never the code's spelling: the Python
//! exception class and the C status are exhaustive matches on
//! [`ErrorKind`], so two codes of one kind always surface the same way.

use std::time::Duration;

/// A stable machine-readable code, a kind and an optional position for an
/// error.
pub trait ErrorCode: std::error::Error {
    /// The stable code, e.g. `cf_check_char`. Never changes once released.
    fn code(&self) -> &'static str;

    /// What kind of failure this is: the bindings derive the Python
    /// exception class and the C status from it.
    fn kind(&self) -> ErrorKind;

    /// The 1-based position (in the normalised input) the error applies to,
    /// if it applies to one character.
    fn position(&self) -> Option<usize> {
        None
    }

    /// Whether the request reached the server, for the errors of a call
    /// (`None` for every error that is not about a request).
    fn request_sent(&self) -> Option<Sent> {
        None
    }

    /// The wait the server asked for before trying again, when it asked:
    /// a throttling wait, or when an exhausted quota resets.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// Whether a failed request reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sent {
    /// Certainly not sent (bad input, connection refused, DNS failure).
    No,
    /// Perhaps sent, perhaps processed (timeout or connection lost after
    /// sending began).
    Maybe,
    /// Sent and answered.
    Yes,
}

impl Sent {
    /// `"no"`, `"maybe"` or `"yes"`, as the bindings show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Sent::No => "no",
            Sent::Maybe => "maybe",
            Sent::Yes => "yes",
        }
    }
}

/// The kind of a failure: one vocabulary for every error of the workspace.
///
/// The first group is about a value the caller gave; the second about a
/// request to PDND, a gateway or an e-service; the rest about the
/// workflows. The names (see [`ErrorKind::as_str`]) are stable: Python
/// shows them as `.kind`, C as `anist_last_error_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// A value that is not usable (a date, a DSU protocol, a document
    /// number, a request missing a required field). Nothing was sent.
    InvalidArgument,
    /// Not a valid codice fiscale.
    InvalidCodiceFiscale,
    /// Not a valid ID ANPR.
    InvalidIdAnpr,
    /// Not a valid codice meccanografico.
    InvalidMeccanografico,
    /// Not a valid school year.
    InvalidSchoolYear,
    /// A place of birth that cannot be resolved.
    Place,
    /// The configuration, its key or its files cannot be used.
    Config,
    /// The sandbox could not start or its registry is not usable.
    Sandbox,
    /// The request was not sent: nothing reached the server.
    NotSent,
    /// PDND refused the client (client id, key, purpose or agreement).
    AuthRefused,
    /// The gateway or the e-service refused the request.
    Refused,
    /// The quota is exhausted until its window resets.
    QuotaExhausted,
    /// Throttled: retry after the wait the server asked for.
    Throttled,
    /// No answer in time; the request may have been processed.
    TimedOut,
    /// The connection failed.
    Network,
    /// The server failed (a 5xx).
    ServerError,
    /// An answer that cannot be read.
    UnexpectedAnswer,
    /// A bulk or massive job cannot run or failed.
    Job,
    /// The job has not finished yet.
    JobNotReady,
    /// The audit trail cannot be used or was tampered with.
    Audit,
    /// The ente's IPA category may not use this ISEE service.
    IseeNotEligible,
    /// INPS refused the ISEE request.
    IseeRefused,
    /// INPS stayed unavailable after the retries.
    IseeUnavailable,
    /// The ISEE request cannot be sent as it is.
    IseeInvalidRequest,
    /// A SIDI synchronisation refused or failed.
    Sidi,
    /// A local edit of a field synchronised from SIDI.
    SidiLocked,
    /// A value the 0–3 survey does not accept.
    InfanziaInvalid,
    /// The 0–3 survey refused an operation, or its file cannot be used.
    Infanzia,
    /// The 0–3 survey's submission window is not open.
    InfanziaWindow,
    /// The 0–3 survey form has problems.
    InfanziaCheck,
    /// ANPR found several subjects for the criteria.
    AnprAmbiguous,
    /// ANPR says the ente is not competent for the subject.
    AnprNotCompetent,
    /// ANPR refused the request with another error of its own.
    AnprRefused,
    /// The user's role, ente or profile does not allow the action.
    Denied,
    /// A rivestizione request cannot move that way from its state.
    Rivestizione,
    /// A local resource failed: a file, a database, the system's random
    /// source, the async runtime.
    Local,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 36] = [
        ErrorKind::InvalidArgument,
        ErrorKind::InvalidCodiceFiscale,
        ErrorKind::InvalidIdAnpr,
        ErrorKind::InvalidMeccanografico,
        ErrorKind::InvalidSchoolYear,
        ErrorKind::Place,
        ErrorKind::Config,
        ErrorKind::Sandbox,
        ErrorKind::NotSent,
        ErrorKind::AuthRefused,
        ErrorKind::Refused,
        ErrorKind::QuotaExhausted,
        ErrorKind::Throttled,
        ErrorKind::TimedOut,
        ErrorKind::Network,
        ErrorKind::ServerError,
        ErrorKind::UnexpectedAnswer,
        ErrorKind::Job,
        ErrorKind::JobNotReady,
        ErrorKind::Audit,
        ErrorKind::IseeNotEligible,
        ErrorKind::IseeRefused,
        ErrorKind::IseeUnavailable,
        ErrorKind::IseeInvalidRequest,
        ErrorKind::Sidi,
        ErrorKind::SidiLocked,
        ErrorKind::InfanziaInvalid,
        ErrorKind::Infanzia,
        ErrorKind::InfanziaWindow,
        ErrorKind::InfanziaCheck,
        ErrorKind::AnprAmbiguous,
        ErrorKind::AnprNotCompetent,
        ErrorKind::AnprRefused,
        ErrorKind::Denied,
        ErrorKind::Rivestizione,
        ErrorKind::Local,
    ];

    /// The stable snake-case name, e.g. `throttled`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::InvalidCodiceFiscale => "invalid_codice_fiscale",
            ErrorKind::InvalidIdAnpr => "invalid_id_anpr",
            ErrorKind::InvalidMeccanografico => "invalid_meccanografico",
            ErrorKind::InvalidSchoolYear => "invalid_school_year",
            ErrorKind::Place => "place",
            ErrorKind::Config => "config",
            ErrorKind::Sandbox => "sandbox",
            ErrorKind::NotSent => "not_sent",
            ErrorKind::AuthRefused => "auth_refused",
            ErrorKind::Refused => "refused",
            ErrorKind::QuotaExhausted => "quota_exhausted",
            ErrorKind::Throttled => "throttled",
            ErrorKind::TimedOut => "timed_out",
            ErrorKind::Network => "network",
            ErrorKind::ServerError => "server_error",
            ErrorKind::UnexpectedAnswer => "unexpected_answer",
            ErrorKind::Job => "job",
            ErrorKind::JobNotReady => "job_not_ready",
            ErrorKind::Audit => "audit",
            ErrorKind::IseeNotEligible => "isee_not_eligible",
            ErrorKind::IseeRefused => "isee_refused",
            ErrorKind::IseeUnavailable => "isee_unavailable",
            ErrorKind::IseeInvalidRequest => "isee_invalid_request",
            ErrorKind::Sidi => "sidi",
            ErrorKind::SidiLocked => "sidi_locked",
            ErrorKind::InfanziaInvalid => "infanzia_invalid",
            ErrorKind::Infanzia => "infanzia",
            ErrorKind::InfanziaWindow => "infanzia_window",
            ErrorKind::InfanziaCheck => "infanzia_check",
            ErrorKind::AnprAmbiguous => "anpr_ambiguous",
            ErrorKind::AnprNotCompetent => "anpr_not_competent",
            ErrorKind::AnprRefused => "anpr_refused",
            ErrorKind::Denied => "denied",
            ErrorKind::Rivestizione => "rivestizione",
            ErrorKind::Local => "local",
        }
    }

    /// Whether the failure is about a value the caller gave (nothing was
    /// sent, and asking again as it is fails again).
    pub fn is_invalid_input(self) -> bool {
        matches!(
            self,
            ErrorKind::InvalidArgument
                | ErrorKind::InvalidCodiceFiscale
                | ErrorKind::InvalidIdAnpr
                | ErrorKind::InvalidMeccanografico
                | ErrorKind::InvalidSchoolYear
                | ErrorKind::Place
                | ErrorKind::IseeInvalidRequest
                | ErrorKind::InfanziaInvalid
        )
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value of every variant of an error type, so that the agreement
/// test of the bindings can enumerate every code the workspace produces
/// with its kind. Not part of the supported API.
#[doc(hidden)]
pub trait CodeSamples: ErrorCode + Sized {
    /// At least one value per variant (per code, for a variant whose code
    /// depends on what it wraps).
    fn samples() -> Vec<Self>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_with_a_distinct_name() {
        let mut names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorKind::ALL.len());
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            // declaration order: ALL is sorted by the derived Ord
            if i > 0 {
                assert!(ErrorKind::ALL[i - 1] < *k, "{k}");
            }
        }
    }
}
