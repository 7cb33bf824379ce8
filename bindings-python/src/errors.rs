//! Rust errors → the Python exceptions of `anist._errors`.
//!
//! The mapping goes by the stable [`ErrorCode::code`] of the Rust error:
//! the exception class is chosen from the code's family, `.code` is the
//! code itself, and the message is the Rust `Display` (which never carries
//! a full codice fiscale, a name, a key or a token). Panics are caught by
//! [`guard`] and raised as `AnistError` with code `internal_panic`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use anist_client::anist::AnistError;
use anist_client::anpr::AnprClientError;
use anist_client::bulk::BulkError;
use anist_client::call::CallError;
use anist_client::config::{Config, ConfigError, Status};
use anist_client::infanzia::InfanziaFileError;
use anist_client::isee::IseeError;
use anist_client::voucher::http::{FetchError, Sent};
use anist_core::infanzia::InfanziaError;
use anist_core::ErrorCode;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// The Python module holding the exception classes.
const ERRORS_MODULE: &str = "anist._errors";

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

/// Builds an exception of class `class` (from `anist._errors`) with
/// `message`, `code` and keyword attributes.
pub fn raise(class: &str, message: String, code: &str, attrs: Vec<(&'static str, Attr)>) -> PyErr {
    Python::attach(|py| {
        let build = || -> PyResult<PyErr> {
            let module = py.import(ERRORS_MODULE)?;
            let cls = module.getattr(class)?;
            let kwargs = PyDict::new(py);
            for (k, v) in &attrs {
                kwargs.set_item(k, v.to_py(py)?)?;
            }
            let value = cls.call((message.as_str(), code), Some(&kwargs))?;
            Ok(PyErr::from_value(value))
        };
        build().unwrap_or_else(|e| e)
    })
}

/// `AnistError` with `code`.
pub fn generic(message: String, code: &str) -> PyErr {
    raise("AnistError", message, code, Vec::new())
}

/// An invalid input value (`InvalidInput`, a `ValueError`).
pub fn invalid<E: ErrorCode>(e: &E) -> PyErr {
    raise(
        "InvalidInput",
        e.to_string(),
        e.code(),
        vec![("position", Attr::OptInt(e.position().map(|p| p as i64)))],
    )
}

/// An invalid codice fiscale (`InvalidCodiceFiscale`).
pub fn invalid_cf<E: ErrorCode>(e: &E) -> PyErr {
    raise(
        "InvalidCodiceFiscale",
        e.to_string(),
        e.code(),
        vec![("position", Attr::OptInt(e.position().map(|p| p as i64)))],
    )
}

/// A configuration error.
pub fn config(e: &ConfigError) -> PyErr {
    raise("ConfigError", e.to_string(), e.code(), Vec::new())
}

fn sent_str(sent: Sent) -> String {
    match sent {
        Sent::No => "no",
        Sent::Maybe => "maybe",
        Sent::Yes => "yes",
    }
    .to_string()
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

/// A voucher (authentication) failure.
fn voucher(e: &FetchError, config: Option<&Config>) -> PyErr {
    let message = e.to_string();
    let code = e.code();
    match e {
        FetchError::Throttled { wait, .. } => raise(
            "RateLimited",
            message,
            code,
            vec![
                ("retry_after", Attr::OptSecs(Some(*wait))),
                ("govway_id", Attr::OptStr(None)),
            ],
        ),
        FetchError::QuotaExceeded { reset, .. } => raise(
            "QuotaExceeded",
            message,
            code,
            vec![
                ("reset", Attr::OptSecs(*reset)),
                ("govway_id", Attr::OptStr(None)),
            ],
        ),
        FetchError::TimedOut { sent } | FetchError::Network { sent, .. } => raise(
            "NetworkError",
            message,
            code,
            vec![("sent", Attr::Str(sent_str(*sent)))],
        ),
        _ => {
            let refused = matches!(e, FetchError::Refused { .. });
            let diagnosis = if refused {
                diagnosis(config)
            } else {
                Vec::new()
            };
            raise(
                "AuthError",
                message,
                code,
                vec![
                    (
                        "correlation_id",
                        Attr::OptStr(e.correlation_id().map(str::to_string)),
                    ),
                    ("diagnosis", Attr::Records(diagnosis)),
                ],
            )
        }
    }
}

/// An e-service call failure.
pub fn call(e: &CallError, config: Option<&Config>) -> PyErr {
    let message = e.to_string();
    let code = e.code();
    let govway = || Attr::OptStr(e.govway_id().map(str::to_string));
    match e {
        CallError::Voucher(v) => voucher(v, config),
        CallError::QuotaExceeded { reset, .. } => raise(
            "QuotaExceeded",
            message,
            code,
            vec![("reset", Attr::OptSecs(*reset)), ("govway_id", govway())],
        ),
        CallError::Throttled { wait, .. } => raise(
            "RateLimited",
            message,
            code,
            vec![
                ("retry_after", Attr::OptSecs(Some(*wait))),
                ("govway_id", govway()),
            ],
        ),
        CallError::Refused { problem } | CallError::Server { problem } => raise(
            "GatewayError",
            message,
            code,
            vec![
                ("status", Attr::OptInt(Some(i64::from(problem.status)))),
                ("title", Attr::OptStr(problem.title.clone())),
                ("govway_id", govway()),
            ],
        ),
        CallError::TimedOut { sent } | CallError::Network { sent, .. } => raise(
            "NetworkError",
            message,
            code,
            vec![("sent", Attr::Str(sent_str(*sent)))],
        ),
        _ => raise("ServiceError", message, code, Vec::new()),
    }
}

/// An ANIST failure.
pub fn anist(e: &AnistError, config: Option<&Config>) -> PyErr {
    match e {
        AnistError::Call(c) => call(c, config),
        AnistError::Rejected { govway_id, .. } => raise(
            "GatewayError",
            e.to_string(),
            e.code(),
            vec![
                ("status", Attr::OptInt(Some(400))),
                ("title", Attr::OptStr(None)),
                ("govway_id", Attr::OptStr(govway_id.clone())),
            ],
        ),
        _ => raise("ServiceError", e.to_string(), e.code(), Vec::new()),
    }
}

/// An INPS ISEE failure: call failures as for every e-service; an
/// invalid question is `InvalidInput`; eligibility, INPS refusals and
/// outages are `ServiceError` with their `isee_*` code.
pub fn isee(e: &IseeError, config: Option<&Config>) -> PyErr {
    match e {
        IseeError::Call(c) => call(c, config),
        IseeError::InvalidRequest { .. } => raise(
            "InvalidInput",
            e.to_string(),
            e.code(),
            vec![("position", Attr::OptInt(None))],
        ),
        _ => raise("ServiceError", e.to_string(), e.code(), Vec::new()),
    }
}

/// An ANPR E002 failure: call failures as for every e-service; a request
/// the client refuses (blank `motivo`, malformed operation id) is
/// `InvalidInput`; ANPR's refusals (`anpr_ambiguous`, `anpr_not_competent`,
/// `anpr_refused`), unreadable answers (`anpr_unexpected_answer`) and the
/// operation-id store (`anpr_operation_ids`) are `ServiceError`.
pub fn anpr(e: &AnprClientError, config: Option<&Config>) -> PyErr {
    use anist_core::anpr::esito::E002Error;
    match e {
        AnprClientError::Call(c) => call(c, config),
        AnprClientError::Anpr(E002Error::MotivoMissing | E002Error::OperationId) => raise(
            "InvalidInput",
            e.to_string(),
            e.code(),
            vec![("position", Attr::OptInt(None))],
        ),
        _ => raise("ServiceError", e.to_string(), e.code(), Vec::new()),
    }
}

/// An ANPR SOAP 3002 failure (search by document): incomplete criteria
/// (`anpr_soap_ehr41`, `anpr_soap_ehr67`, `anpr_soap_ehr68`) and shapes
/// (`anpr_soap_invalid_field`) are `InvalidInput`; everything else
/// (`anpr_soap_error`, `anpr_soap_xml`, `anpr_soap_http`,
/// `anpr_soap_config`, the id store, the audit) is `ServiceError`.
#[allow(dead_code)] // No Python API for the SOAP channel yet.
pub fn anpr_soap(e: &anist_client::anpr::soap::AnprSoapError) -> PyErr {
    use anist_client::anpr::soap::AnprSoapError;
    use anist_core::anpr::soap3002::Soap3002Error;
    match e {
        AnprSoapError::Anpr(
            Soap3002Error::Ehr41
            | Soap3002Error::Ehr67
            | Soap3002Error::Ehr68
            | Soap3002Error::InvalidField { .. },
        ) => raise(
            "InvalidInput",
            e.to_string(),
            e.code(),
            vec![("position", Attr::OptInt(None))],
        ),
        _ => raise("ServiceError", e.to_string(), e.code(), Vec::new()),
    }
}

/// A bulk job failure.
pub fn bulk(e: &BulkError) -> PyErr {
    raise("BulkError", e.to_string(), e.code(), Vec::new())
}

/// The exception of a survey error: `InvalidInput` for a value that is not
/// valid, `InfanziaError` (with `.problems`) for a refusal of the form.
pub fn infanzia(e: &InfanziaError) -> PyErr {
    match e {
        InfanziaError::ServiceType { .. }
        | InfanziaError::DeclarationKind { .. }
        | InfanziaError::ReasonMissing
        | InfanziaError::CessationActMissing
        | InfanziaError::NotesMissing
        | InfanziaError::CountUnit { .. }
        | InfanziaError::Config { .. }
        | InfanziaError::ActReferenceMissing => raise(
            "InvalidInput",
            e.to_string(),
            e.code(),
            vec![("position", Attr::OptInt(None))],
        ),
        _ => raise(
            "InfanziaError",
            e.to_string(),
            e.code(),
            vec![(
                "problems",
                Attr::Records(
                    e.problems()
                        .iter()
                        .map(|p| {
                            vec![
                                ("code", p.code.clone()),
                                ("service", p.service.clone().unwrap_or_default()),
                                ("message", p.message.clone()),
                            ]
                        })
                        .collect(),
                ),
            )],
        ),
    }
}

/// The exception of a survey file error (`InfanziaError`, or the one of
/// the form rule behind it).
pub fn infanzia_file(e: &InfanziaFileError) -> PyErr {
    match e {
        InfanziaFileError::Form(inner) => infanzia(inner),
        _ => raise(
            "InfanziaError",
            e.to_string(),
            e.code(),
            vec![("problems", Attr::Records(Vec::new()))],
        ),
    }
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
            Err(generic(
                format!(
                    "internal error in the anist library ({what}): please report it with the steps that led to it"
                ),
                "internal_panic",
            ))
        }
    }
}
