//! Rust errors → the Python exceptions of `anist._errors`.
//!
//! The exception class is derived from the error's [`ErrorKind`] by one
//! exhaustive match ([`PyClass::of`]), never from the spelling of its
//! code: two codes of one kind always raise the same class, and the C
//! library derives its status from the same kind. Every exception carries
//! `.code` (the stable code), `.kind` (the kind's name) and the message
//! (the Rust `Display`, which never carries a full codice fiscale, a name,
//! a key or a token); the class's own attributes (`position`, `sent`,
//! `retry_after`, `govway_id`, …) come from the error or from what the
//! call site knows ([`Extra`]). Panics are caught by [`guard`] and raised
//! as `AnistError` with code `internal_panic`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use anist_client::anist::AnistError;
use anist_client::anpr::AnprClientError;
use anist_client::call::CallError;
use anist_client::config::{Config, Status};
use anist_client::infanzia::InfanziaFileError;
use anist_client::isee::IseeError;
use anist_client::voucher::http::FetchError;
use anist_core::infanzia::InfanziaError;
use anist_core::{ErrorCode, ErrorKind};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// The Python module holding the exception classes.
const ERRORS_MODULE: &str = "anist._errors";

/// The exception classes of `anist._errors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PyClass {
    /// `AnistError`, the base: a local failure, the sandbox.
    AnistError,
    /// `InvalidInput` (a `ValueError`), with `position`.
    InvalidInput,
    /// `InvalidCodiceFiscale` (an `InvalidInput`).
    InvalidCodiceFiscale,
    /// `ConfigError`.
    ConfigError,
    /// `AuthError`, with `correlation_id` and `diagnosis`.
    AuthError,
    /// `QuotaExceeded`, with `reset` and `govway_id`.
    QuotaExceeded,
    /// `RateLimited`, with `retry_after` and `govway_id`.
    RateLimited,
    /// `GatewayError`, with `status`, `title` and `govway_id`.
    GatewayError,
    /// `NetworkError`, with `sent`.
    NetworkError,
    /// `ServiceError`.
    ServiceError,
    /// `BulkError`.
    BulkError,
    /// `AuditError`.
    AuditError,
    /// `SidiError`.
    SidiError,
    /// `InfanziaError`, with `problems`.
    InfanziaError,
    /// `DeniedError`.
    DeniedError,
    /// `RivestizioneError`.
    RivestizioneError,
}

impl PyClass {
    /// The class of a kind: the one place the Python binding classifies.
    pub fn of(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidArgument
            | ErrorKind::InvalidIdAnpr
            | ErrorKind::InvalidMeccanografico
            | ErrorKind::InvalidSchoolYear
            | ErrorKind::Place
            | ErrorKind::IseeInvalidRequest
            | ErrorKind::InfanziaInvalid => PyClass::InvalidInput,
            ErrorKind::InvalidCodiceFiscale => PyClass::InvalidCodiceFiscale,
            ErrorKind::Config => PyClass::ConfigError,
            ErrorKind::Sandbox | ErrorKind::Local => PyClass::AnistError,
            ErrorKind::AuthRefused => PyClass::AuthError,
            ErrorKind::Refused | ErrorKind::ServerError => PyClass::GatewayError,
            ErrorKind::QuotaExhausted => PyClass::QuotaExceeded,
            ErrorKind::Throttled => PyClass::RateLimited,
            ErrorKind::NotSent | ErrorKind::TimedOut | ErrorKind::Network => PyClass::NetworkError,
            ErrorKind::UnexpectedAnswer
            | ErrorKind::IseeNotEligible
            | ErrorKind::IseeRefused
            | ErrorKind::IseeUnavailable
            | ErrorKind::AnprAmbiguous
            | ErrorKind::AnprNotCompetent
            | ErrorKind::AnprRefused => PyClass::ServiceError,
            ErrorKind::Job | ErrorKind::JobNotReady => PyClass::BulkError,
            ErrorKind::Audit => PyClass::AuditError,
            ErrorKind::Sidi | ErrorKind::SidiLocked => PyClass::SidiError,
            ErrorKind::Infanzia | ErrorKind::InfanziaWindow | ErrorKind::InfanziaCheck => {
                PyClass::InfanziaError
            }
            ErrorKind::Denied => PyClass::DeniedError,
            ErrorKind::Rivestizione => PyClass::RivestizioneError,
        }
    }

    /// The class's name in `anist._errors`.
    pub fn name(self) -> &'static str {
        match self {
            PyClass::AnistError => "AnistError",
            PyClass::InvalidInput => "InvalidInput",
            PyClass::InvalidCodiceFiscale => "InvalidCodiceFiscale",
            PyClass::ConfigError => "ConfigError",
            PyClass::AuthError => "AuthError",
            PyClass::QuotaExceeded => "QuotaExceeded",
            PyClass::RateLimited => "RateLimited",
            PyClass::GatewayError => "GatewayError",
            PyClass::NetworkError => "NetworkError",
            PyClass::ServiceError => "ServiceError",
            PyClass::BulkError => "BulkError",
            PyClass::AuditError => "AuditError",
            PyClass::SidiError => "SidiError",
            PyClass::InfanziaError => "InfanziaError",
            PyClass::DeniedError => "DeniedError",
            PyClass::RivestizioneError => "RivestizioneError",
        }
    }
}

/// What a call site knows beyond the error's trait methods: the
/// attributes of `GatewayError`, `AuthError`, `QuotaExceeded`,
/// `RateLimited` and `InfanziaError`. A class takes only its own.
#[derive(Default)]
pub struct Extra {
    /// GovWay's transaction id.
    pub govway_id: Option<String>,
    /// The HTTP status of a gateway refusal or failure.
    pub status: Option<u16>,
    /// The problem's title.
    pub title: Option<String>,
    /// PDND's correlation id.
    pub correlation_id: Option<String>,
    /// The failed pre-flight checks.
    pub diagnosis: Vec<Vec<(&'static str, String)>>,
    /// The survey's problems.
    pub problems: Vec<Vec<(&'static str, String)>>,
}

/// A value for an exception attribute.
pub enum Attr {
    /// `str`.
    Str(String),
    /// `str | None`.
    OptStr(Option<String>),
    /// `int | None`.
    OptInt(Option<i64>),
    /// `float | None` (seconds).
    OptSecs(Option<Duration>),
    /// `list[dict[str, str]]`.
    Records(Vec<Vec<(&'static str, String)>>),
}

impl Attr {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(match self {
            Attr::Str(s) => s.into_pyobject(py)?.into_any(),
            Attr::OptStr(s) => s.as_deref().into_pyobject(py)?.into_any(),
            Attr::OptInt(i) => i.into_pyobject(py)?.into_any(),
            Attr::OptSecs(d) => d.map(|d| d.as_secs_f64()).into_pyobject(py)?.into_any(),
            Attr::Records(rows) => {
                let list = PyList::empty(py);
                for row in rows {
                    let d = PyDict::new(py);
                    for (k, v) in row {
                        d.set_item(k, v)?;
                    }
                    list.append(d)?;
                }
                list.into_any()
            }
        })
    }
}

/// Builds an exception of `class` with `message`, `code`, `kind` and
/// keyword attributes.
fn build(
    class: PyClass,
    message: String,
    code: &str,
    kind: ErrorKind,
    attrs: Vec<(&'static str, Attr)>,
) -> PyErr {
    Python::attach(|py| {
        let build = || -> PyResult<PyErr> {
            let module = py.import(ERRORS_MODULE)?;
            let cls = module.getattr(class.name())?;
            let kwargs = PyDict::new(py);
            for (k, v) in &attrs {
                kwargs.set_item(k, v.to_py(py)?)?;
            }
            let value = cls.call((message.as_str(), code), Some(&kwargs))?;
            value.setattr("kind", kind.as_str())?;
            Ok(PyErr::from_value(value))
        };
        build().unwrap_or_else(|e| e)
    })
}

/// The exception of an error of the vocabulary, with what the call site
/// knows.
pub fn error_with<E: ErrorCode + ?Sized>(e: &E, extra: Extra) -> PyErr {
    let kind = e.kind();
    let class = PyClass::of(kind);
    let attrs = match class {
        PyClass::InvalidInput | PyClass::InvalidCodiceFiscale => vec![(
            "position",
            Attr::OptInt(e.position().and_then(|p| i64::try_from(p).ok())),
        )],
        PyClass::AuthError => vec![
            ("correlation_id", Attr::OptStr(extra.correlation_id)),
            ("diagnosis", Attr::Records(extra.diagnosis)),
        ],
        PyClass::QuotaExceeded => vec![
            ("reset", Attr::OptSecs(e.retry_after())),
            ("govway_id", Attr::OptStr(extra.govway_id)),
        ],
        PyClass::RateLimited => vec![
            ("retry_after", Attr::OptSecs(e.retry_after())),
            ("govway_id", Attr::OptStr(extra.govway_id)),
        ],
        PyClass::GatewayError => vec![
            ("status", Attr::OptInt(extra.status.map(i64::from))),
            ("title", Attr::OptStr(extra.title)),
            ("govway_id", Attr::OptStr(extra.govway_id)),
        ],
        PyClass::NetworkError => vec![(
            "sent",
            Attr::Str(
                e.request_sent()
                    .map_or("maybe", anist_core::Sent::as_str)
                    .to_string(),
            ),
        )],
        PyClass::InfanziaError => vec![("problems", Attr::Records(extra.problems))],
        PyClass::AnistError
        | PyClass::ConfigError
        | PyClass::ServiceError
        | PyClass::BulkError
        | PyClass::AuditError
        | PyClass::SidiError
        | PyClass::DeniedError
        | PyClass::RivestizioneError => Vec::new(),
    };
    build(class, e.to_string(), e.code(), kind, attrs)
}

/// The exception of an error of the vocabulary.
pub fn error<E: ErrorCode + ?Sized>(e: &E) -> PyErr {
    error_with(e, Extra::default())
}

/// An error of the vocabulary rendered as another kind, where the binding
/// knows better: a record the caller gave to a parser is the caller's
/// input, not an unexpected answer. The code stays the error's.
pub fn error_as<E: ErrorCode + ?Sized>(kind: ErrorKind, e: &E) -> PyErr {
    error(&BindingError {
        kind,
        code: e.code(),
        message: e.to_string(),
    })
}

/// An error that only the binding knows (a bad argument of a Python
/// call, the sandbox not started), of `kind` with `code`.
pub fn new(kind: ErrorKind, message: String, code: &'static str) -> PyErr {
    error(&BindingError {
        kind,
        code,
        message,
    })
}

/// An error raised by the binding itself, rendered as every other.
#[derive(Debug)]
struct BindingError {
    kind: ErrorKind,
    code: &'static str,
    message: String,
}

impl std::fmt::Display for BindingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BindingError {}

impl ErrorCode for BindingError {
    fn code(&self) -> &'static str {
        self.code
    }

    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// The pre-flight findings of a configuration: every `preflight*` check
/// that did not pass (rule, status, subject, detail, fix).
pub fn diagnosis(config: Option<&Config>) -> Vec<Vec<(&'static str, String)>> {
    let Some(config) = config else {
        return Vec::new();
    };
    let now = chrono::Utc::now().timestamp();
    config
        .check(now)
        .checks()
        .iter()
        .filter(|c| c.rule().starts_with("preflight") && c.status() != Status::Ok)
        .map(|c| {
            vec![
                ("rule", c.rule().to_string()),
                ("status", c.status().as_str().to_string()),
                ("subject", c.subject().to_string()),
                ("detail", c.detail().to_string()),
                ("fix", c.fix().to_string()),
            ]
        })
        .collect()
}

/// A voucher (authentication) failure: a refusal carries PDND's
/// correlation id and the pre-flight diagnosis of the configuration.
fn voucher(e: &FetchError, config: Option<&Config>) -> PyErr {
    let status = match e {
        FetchError::Server { status, .. } | FetchError::UnexpectedStatus { status, .. } => {
            Some(*status)
        }
        _ => None,
    };
    let diagnosis = if matches!(e, FetchError::Refused { .. }) {
        diagnosis(config)
    } else {
        Vec::new()
    };
    error_with(
        e,
        Extra {
            status,
            correlation_id: e.correlation_id().map(str::to_string),
            diagnosis,
            ..Extra::default()
        },
    )
}

/// An e-service call failure: gateway refusals carry status, title and
/// GovWay id.
pub fn call(e: &CallError, config: Option<&Config>) -> PyErr {
    if let CallError::Voucher(v) = e {
        return voucher(v, config);
    }
    let (status, title) = match e {
        CallError::Refused { problem } | CallError::Server { problem } => {
            (Some(problem.status), problem.title.clone())
        }
        _ => (None, None),
    };
    error_with(
        e,
        Extra {
            govway_id: e.govway_id().map(str::to_string),
            status,
            title,
            ..Extra::default()
        },
    )
}

/// An ANIST failure: ANIST's own refusal is a 400 with the GovWay id.
pub fn anist(e: &AnistError, config: Option<&Config>) -> PyErr {
    match e {
        AnistError::Call(c) => call(c, config),
        AnistError::Rejected { govway_id, .. } => error_with(
            e,
            Extra {
                status: Some(400),
                govway_id: govway_id.clone(),
                ..Extra::default()
            },
        ),
        _ => error(e),
    }
}

/// An INPS ISEE failure.
pub fn isee(e: &IseeError, config: Option<&Config>) -> PyErr {
    match e {
        IseeError::Call(c) => call(c, config),
        _ => error(e),
    }
}

/// An ANPR E002 failure.
pub fn anpr(e: &AnprClientError, config: Option<&Config>) -> PyErr {
    match e {
        AnprClientError::Call(c) => call(c, config),
        _ => error(e),
    }
}

/// A survey error: a refusal of the form lists its problems.
pub fn infanzia(e: &InfanziaError) -> PyErr {
    error_with(
        e,
        Extra {
            problems: e
                .problems()
                .iter()
                .map(|p| {
                    vec![
                        ("code", p.code.clone()),
                        ("service", p.service.clone().unwrap_or_default()),
                        ("message", p.message.clone()),
                    ]
                })
                .collect(),
            ..Extra::default()
        },
    )
}

/// A survey file error (or the form rule behind it).
pub fn infanzia_file(e: &InfanziaFileError) -> PyErr {
    match e {
        InfanziaFileError::Form(inner) => infanzia(inner),
        _ => error(e),
    }
}

/// One exception per sample of the workspace's error catalogue, raised
/// through the same functions as every call: for the agreement test of
/// the bindings (`tests/test_errors.py`).
pub fn samples() -> Vec<PyErr> {
    anist_client::errors::catalogue()
        .iter()
        .map(|e| error(e.as_ref()))
        .collect()
}

/// Runs `f`, turning a panic into `AnistError` (code `internal_panic`)
/// instead of PyO3's `PanicException`.
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".to_string());
            Err(new(
                ErrorKind::Local,
                format!(
                    "internal error in the anist library ({what}): please report it with the steps that led to it"
                ),
                "internal_panic",
            ))
        }
    }
}
