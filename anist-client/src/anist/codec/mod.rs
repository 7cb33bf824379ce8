//! The wire shapes of the ANIST e-services, one module per e-service.
//!
//! The OpenAPI of ANIST is downloadable only from the PDND catalogue, so
//! everything here follows the protocol reference's assumptions (§8.2,
//! U8–U10) and is kept apart from [`super::AnistClient`] so that the real
//! contract can replace it without touching callers.
//!
//! The request body of a single question (verifica and accertamento, and
//! each row of the massive services) is
//!
//! ```json
//! {"codiceFiscale": "…", "codiceMeccanografico": "…", "annoScolastico": "2024/2025"}
//! ```
//!
//! with exactly one of `codiceFiscale` / `idANPR`, and the other two
//! fields only when they apply. `annoScolastico` (see [`school_year`]):
//!
//! - [`YearSelector::Current`] omits the field: the service answers for
//!   its own current school year;
//! - [`YearSelector::Previous`] sends the school year before the one that
//!   contains `today` (the client's clock, UTC), i.e.
//!   `SchoolYear::containing(today).previous()`;
//! - [`YearSelector::Explicit`] sends that year, written `YYYY/YYYY`.
//!
//! ```
//! use anist_client::anist::codec::encode_query;
//! use anist_client::anist::Query;
//! use anist_core::cf::CodiceFiscale;
//! use chrono::NaiveDate;
//!
//! let cf = CodiceFiscale::parse("RSSMRA80A01H501U")?;
//! let today = NaiveDate::from_ymd_opt(2025, 11, 3).unwrap();
//! let body = encode_query(&Query::by_cf(cf), today);
//! assert_eq!(body, br#"{"codiceFiscale":"RSSMRA80A01H501U"}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod accertamento;
pub mod massiva;
pub mod verifica;

use anist_core::cf::CodiceFiscale;
use anist_core::school::SchoolYear;
use chrono::NaiveDate;
use serde::Serialize;

use super::{AnistError, Answer, Query, Subject, YearSelector};
use crate::call::{CallError, GatewayProblem};

/// The text of ANIST's legacy "no result" answer (HTTP 500, U9).
pub const LEGACY_NOT_FOUND: &str = "non produce alcun risultato";

/// Titles of GovWay's own 404 problems: the API or the operation does not
/// exist on the gateway. These are configuration errors, never "no data".
const GATEWAY_404_TITLES: &[&str] = &[
    "UnknownAPI",
    "UndefinedOperation",
    "UnknownResource",
    "UnknownAPIResource",
];

/// The `annoScolastico` to send for `selector` on `today` (module docs).
pub fn school_year(selector: YearSelector, today: NaiveDate) -> Option<SchoolYear> {
    match selector {
        YearSelector::Current => None,
        YearSelector::Previous => Some(SchoolYear::containing(today).previous()),
        YearSelector::Explicit(year) => Some(year),
    }
}

/// One question on the wire (no `Debug`: it holds a codice fiscale).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireQuery<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    codice_fiscale: Option<&'a str>,
    #[serde(rename = "idANPR", skip_serializing_if = "Option::is_none")]
    id_anpr: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    codice_meccanografico: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    anno_scolastico: Option<String>,
}

impl<'a> WireQuery<'a> {
    pub(crate) fn new(query: &'a Query, today: NaiveDate) -> Self {
        let (codice_fiscale, id_anpr) = match &query.subject {
            Subject::CodiceFiscale(cf) => (Some(cf.as_str()), None),
            Subject::IdAnpr(id) => (None, Some(id.as_str())),
        };
        Self {
            codice_fiscale,
            id_anpr,
            codice_meccanografico: query.school.as_ref().map(|s| s.as_str()),
            anno_scolastico: school_year(query.year, today).map(|y| y.to_string()),
        }
    }
}

/// The exact body of a single question (verifica or accertamento).
pub fn encode_query(query: &Query, today: NaiveDate) -> Vec<u8> {
    // Serializing a struct of strings cannot fail.
    serde_json::to_vec(&WireQuery::new(query, today)).unwrap_or_default()
}

fn is_legacy_not_found(problem: &GatewayProblem) -> bool {
    [&problem.detail, &problem.title]
        .into_iter()
        .flatten()
        .any(|t| t.to_lowercase().contains(LEGACY_NOT_FOUND))
}

/// Titles of GovWay's own 400 problems (the ModI profile or the OpenAPI
/// validation failed): a refusal of the gateway, not of ANIST.
const GATEWAY_400_TITLES: &[&str] = &[
    "InteroperabilityInvalidRequest",
    "UnexpectedInteroperabilityHeader",
    "MessageSecurityRequestFailed",
    "ContentTypeNotSupported",
];

/// What a failed single call means (U9): `404` from the service (not one
/// of GovWay's own "unknown API / operation" problems) and the legacy
/// `500` "La richiesta effettuata non produce alcun risultato" are
/// [`Answer::NotFound`]; a `400` of the service with a reason (e.g.
/// `codiceMeccanografico non censito`) is [`AnistError::Rejected`] with
/// that reason; everything else stays an error.
///
/// # Errors
/// [`AnistError::Rejected`], or [`AnistError::Call`] with `error` when it
/// is not a "no result".
pub fn not_found_or<T>(error: CallError) -> Result<Answer<T>, AnistError> {
    if let CallError::Refused { problem } = &error {
        let detail = problem
            .detail
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty());
        let gateway = problem
            .title
            .as_deref()
            .is_some_and(|t| GATEWAY_400_TITLES.contains(&t));
        if let (400, Some(detail), false) = (problem.status, detail, gateway) {
            return Err(AnistError::Rejected {
                reason: scrub(detail),
                govway_id: problem.govway_id.clone(),
            });
        }
    }
    match &error {
        CallError::Refused { problem }
            if problem.status == 404
                && !problem
                    .title
                    .as_deref()
                    .is_some_and(|t| GATEWAY_404_TITLES.contains(&t)) =>
        {
            Ok(Answer::NotFound)
        }
        CallError::Server { problem } if problem.status == 500 && is_legacy_not_found(problem) => {
            Ok(Answer::NotFound)
        }
        _ => Err(AnistError::Call(error)),
    }
}

/// A JSON type name, for error messages that must not echo values.
pub(crate) fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The error for a body that is not what the codec expects. The serde
/// message names the position and the expected type only, never a value
/// (serde_json quotes no input in its messages except unknown variant
/// names, which these codecs do not use).
pub(crate) fn unexpected(status: u16, reason: impl Into<String>) -> AnistError {
    AnistError::Unexpected {
        status,
        reason: reason.into(),
    }
}

/// Masks what looks like a codice fiscale or an ID ANPR in a text from
/// the service (a per-row error message), and keeps it short.
pub(crate) fn scrub(text: &str) -> String {
    let mut out = String::new();
    for (i, token) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = token.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let masked = if let Ok(cf) = CodiceFiscale::parse(core) {
            Some(format!("{cf:?}"))
        } else if core.len() == 9
            && core.bytes().all(|b| b.is_ascii_alphanumeric())
            && core.bytes().any(|b| b.is_ascii_digit())
            && core.bytes().any(|b| b.is_ascii_alphabetic())
        {
            Some("*********".to_string())
        } else if core.len() >= 11
            && core.bytes().filter(u8::is_ascii_alphanumeric).count() >= 11
            && core.bytes().any(|b| b.is_ascii_digit())
        {
            Some("*".repeat(core.len()))
        } else {
            None
        };
        match masked {
            Some(m) => out.push_str(&token.replace(core, &m)),
            None => out.push_str(token),
        }
    }
    out.chars().filter(|c| !c.is_control()).take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anist_core::anpr::IdAnpr;
    use anist_core::meccanografico::CodiceMeccanografico;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 11, 3).unwrap()
    }

    fn cf() -> CodiceFiscale {
        CodiceFiscale::parse("RSSMRA80A01H501U").unwrap()
    }

    #[test]
    fn request_bodies_are_exact() {
        let q = Query::by_cf(cf());
        assert_eq!(
            encode_query(&q, today()),
            br#"{"codiceFiscale":"RSSMRA80A01H501U"}"#
        );
        let q = Query {
            subject: Subject::IdAnpr(IdAnpr::parse("AF41450AS").unwrap()),
            school: Some(CodiceMeccanografico::parse("RMIC81500N").unwrap()),
            year: YearSelector::Explicit(SchoolYear::starting(2023).unwrap()),
        };
        assert_eq!(
            encode_query(&q, today()),
            br#"{"idANPR":"AF41450AS","codiceMeccanografico":"RMIC81500N","annoScolastico":"2023/2024"}"#
        );
        let q = Query::by_cf(cf()).year(YearSelector::Previous);
        assert_eq!(
            encode_query(&q, today()),
            br#"{"codiceFiscale":"RSSMRA80A01H501U","annoScolastico":"2024/2025"}"#
        );
        // Before 1 September the current school year is the one that started
        // the year before.
        let summer = NaiveDate::from_ymd_opt(2025, 8, 31).unwrap();
        assert_eq!(
            school_year(YearSelector::Previous, summer)
                .unwrap()
                .to_string(),
            "2023/2024"
        );
        assert_eq!(school_year(YearSelector::Current, summer), None);
    }

    fn problem(status: u16, title: Option<&str>, detail: Option<&str>) -> Box<GatewayProblem> {
        Box::new(GatewayProblem {
            status,
            title: title.map(str::to_string),
            detail: detail.map(str::to_string),
            ..GatewayProblem::default()
        })
    }

    #[test]
    fn not_found_semantics() {
        let nf = |e: CallError| not_found_or::<()>(e);
        assert_eq!(
            nf(CallError::Refused {
                problem: problem(404, Some("Not Found"), None)
            }),
            Ok(Answer::NotFound)
        );
        assert_eq!(
            nf(CallError::Refused {
                problem: problem(404, None, None)
            }),
            Ok(Answer::NotFound)
        );
        assert_eq!(
            nf(CallError::Server {
                problem: problem(
                    500,
                    Some("Internal Server Error"),
                    Some("La richiesta effettuata non produce alcun risultato")
                )
            }),
            Ok(Answer::NotFound)
        );
        // GovWay's own 404s, other 500s, other refusals stay errors.
        for e in [
            CallError::Refused {
                problem: problem(404, Some("UnknownAPI"), None),
            },
            CallError::Refused {
                problem: problem(404, Some("UndefinedOperation"), None),
            },
            CallError::Server {
                problem: problem(500, Some("InternalResponseError"), Some("boom")),
            },
            CallError::Server {
                problem: problem(503, None, Some("non produce alcun risultato")),
            },
            CallError::Refused {
                problem: problem(403, Some("AuthorizationDeny"), None),
            },
            CallError::Refused {
                problem: problem(
                    400,
                    Some("InteroperabilityInvalidRequest"),
                    Some("Received request is not conform"),
                ),
            },
            CallError::Refused {
                problem: problem(400, Some("Bad Request"), None),
            },
        ] {
            let code = anist_core::ErrorCode::code(&e);
            let got = nf(e).unwrap_err();
            assert_eq!(anist_core::ErrorCode::code(&got), code);
        }
    }

    #[test]
    fn the_services_own_refusal_keeps_its_reason() {
        let mut p = problem(
            400,
            Some("Bad Request"),
            Some("codiceMeccanografico non censito"),
        );
        p.govway_id = Some("g-1".into());
        let e = not_found_or::<()>(CallError::Refused { problem: p }).unwrap_err();
        assert_eq!(anist_core::ErrorCode::code(&e), "anist_request_rejected");
        let text = e.to_string();
        assert!(text.contains("codiceMeccanografico non censito"), "{text}");
        assert!(text.contains("g-1"), "{text}");
        // A code in the reason is masked.
        let e = not_found_or::<()>(CallError::Refused {
            problem: problem(400, None, Some("codice RSSMRA80A01H501U non valido")),
        })
        .unwrap_err();
        assert!(!e.to_string().contains("RSSMRA80A01H501U"), "{e}");
    }

    #[test]
    fn scrub_masks_identifiers() {
        let s = scrub("codice RSSMRA80A01H501U non valido; idANPR AF41450AS; n. 12");
        assert!(!s.contains("RSSMRA80A01H501U"), "{s}");
        assert!(!s.contains("AF41450AS"), "{s}");
        assert!(s.contains("non valido") && s.contains("n. 12"), "{s}");
    }
}
