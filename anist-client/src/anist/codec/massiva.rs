//! "ANIST - Verifica Massiva Frequenze" and "ANIST - Accertamento Massivo
//! Frequenze", assumption U10 (ModI NONBLOCK_PULL over REST):
//!
//! 1. `POST <url>/frequenze/massiva` with `{"richieste": [<question>, …]}`
//!    (each question as [`super::encode_query`]) → `202 Accepted`,
//!    `Location: <url>/frequenze/massiva/{id}`, `{"id": "…", "status": "accepted"}`;
//! 2. `GET <url>/frequenze/massiva/{id}` → `200 {"status": "processing"}`,
//!    or `303 See Other` with `Location: <url>/frequenze/massiva/{id}/result`;
//! 3. `GET …/result` → `200` and a JSON array with one object per question,
//!    in order: `{"codiceFiscale" | "idANPR", "esito": "OK" | "NON_TROVATO" |
//!    "ERRORE", …the answer's fields (verifica: `frequentante`,
//!    `esitoFrequenza`; accertamento: the record)…, "errore"?}`.
//!
//! A `Location` is accepted absolute (it must then be under the e-service
//! URL), absolute-path (`/govway/…`, same rule) or relative to the
//! e-service URL; anything pointing elsewhere is refused.

use anist_core::attendance::{Frequenza, Verifica};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;

use super::{kind_of, scrub, unexpected, WireQuery};
use crate::anist::{AnistError, Answer, Query, RowAnswer};

/// The submission operation, relative to the e-service URL.
pub const SUBMIT_PATH: &str = "frequenze/massiva";

/// Longest job id accepted from the service.
const MAX_ID_LEN: usize = 200;

#[derive(Serialize)]
struct Submission<'a> {
    richieste: Vec<WireQuery<'a>>,
}

/// The exact body of a submission.
pub fn encode_submit(queries: &[Query], today: NaiveDate) -> Vec<u8> {
    let s = Submission {
        richieste: queries.iter().map(|q| WireQuery::new(q, today)).collect(),
    };
    serde_json::to_vec(&s).unwrap_or_default()
}

/// The status path of job `id`, relative to the e-service URL.
pub fn status_path(id: &str) -> String {
    format!("{SUBMIT_PATH}/{id}")
}

fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && id != "."
        && id != ".."
}

/// Reads the `202 Accepted` of a submission: the job id.
///
/// # Errors
/// [`AnistError::Unexpected`] for another status, or without a usable id.
pub fn decode_accepted(status: u16, body: &[u8]) -> Result<String, AnistError> {
    if !(200..=202).contains(&status) {
        return Err(unexpected(
            status,
            "the massive submission was not accepted with 202",
        ));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        unexpected(
            status,
            format!("the massive submission answer is not JSON: {e}"),
        )
    })?;
    match v.get("id").and_then(Value::as_str) {
        Some(id) if id_ok(id) => Ok(id.to_string()),
        Some(_) => Err(unexpected(
            status,
            "the massive job id has characters or a length that cannot be used in a path",
        )),
        None => Err(unexpected(
            status,
            "the massive submission answer has no id",
        )),
    }
}

/// What a status answer (`200`, no redirect) says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Accepted or processing.
    Processing,
    /// Done, without a `303` (the result is then at `<status path>/result`).
    Done,
    /// Failed or expired on the service side; what it said (identifiers
    /// masked).
    Failed(String),
}

/// Reads `{"status": …}` of a `200` status answer.
///
/// # Errors
/// [`AnistError::Unexpected`] for an unknown status or another body.
pub fn decode_progress(status: u16, body: &[u8]) -> Result<Progress, AnistError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| unexpected(status, format!("the massive job status is not JSON: {e}")))?;
    let Some(state) = v.get("status").and_then(Value::as_str) else {
        return Err(unexpected(status, "the massive job status has no status"));
    };
    match state.to_ascii_lowercase().as_str() {
        "accepted" | "processing" | "pending" | "running" | "in_progress" => {
            Ok(Progress::Processing)
        }
        "done" | "completed" | "complete" | "ready" => Ok(Progress::Done),
        "failed" | "error" | "expired" | "rejected" | "cancelled" => {
            let why = ["errore", "detail", "message"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str))
                .unwrap_or(state);
            Ok(Progress::Failed(scrub(why)))
        }
        _ => Err(unexpected(
            status,
            format!(
                "the massive job status {:?} is not one this client knows",
                scrub(state)
            ),
        )),
    }
}

/// The path of `location` relative to `service_url` (see the module docs).
///
/// # Errors
/// Why the `Location` cannot be used.
pub fn resolve_location(service_url: &str, location: &str) -> Result<String, String> {
    let base = service_url.trim_end_matches('/');
    let location = location.trim();
    let rest = if location.starts_with("http://") || location.starts_with("https://") {
        location
            .strip_prefix(base)
            .and_then(|r| r.strip_prefix('/'))
    } else if location.starts_with('/') {
        // The origin of the service URL: scheme://authority.
        let origin_end = base
            .find("://")
            .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
            .unwrap_or(base.len());
        let path = &base[origin_end..];
        location
            .strip_prefix(path)
            .and_then(|r| r.strip_prefix('/'))
    } else {
        Some(location)
    };
    let Some(rest) = rest.filter(|r| !r.is_empty()) else {
        return Err("the Location of the massive job points outside the e-service".into());
    };
    let bad_segment = rest
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..");
    if bad_segment
        || !rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
    {
        return Err("the Location of the massive job is not a plain path".into());
    }
    Ok(rest.to_string())
}

fn rows(status: u16, body: &[u8]) -> Result<Vec<Value>, AnistError> {
    if status != 200 {
        return Err(unexpected(
            status,
            "the massive result answered neither 200 nor an error",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(rows)) => Ok(rows),
        Ok(other) => Err(unexpected(
            status,
            format!("the massive result is {}, not an array", kind_of(&other)),
        )),
        Err(e) => Err(unexpected(
            status,
            format!("the massive result is not JSON: {e}"),
        )),
    }
}

fn row<T>(
    status: u16,
    index: usize,
    value: Value,
    ok: impl Fn(Value) -> Result<T, AnistError>,
) -> RowAnswer<T> {
    let esito = value
        .get("esito")
        .and_then(Value::as_str)
        .map(str::to_string);
    match esito.as_deref() {
        Some("OK") => ok(value).map(Answer::Found),
        Some("NON_TROVATO") => Ok(Answer::NotFound),
        Some("ERRORE") => {
            let why = value
                .get("errore")
                .and_then(Value::as_str)
                .map_or_else(|| "no reason given".to_string(), scrub);
            Err(AnistError::RowFailed { reason: why })
        }
        Some(other) => Err(unexpected(
            status,
            format!(
                "row {index}: esito {:?} is not OK, NON_TROVATO or ERRORE",
                scrub(other)
            ),
        )),
        None => Err(unexpected(
            status,
            format!("row {index}: {} without an esito", kind_of(&value)),
        )),
    }
}

/// Reads the result of a massive verification: one row per question.
/// Whether the count matches the submission is the caller's check.
///
/// # Errors
/// [`AnistError::Unexpected`] when the result is not an array; a row that
/// cannot be read is an error in that row only.
pub fn decode_verify_rows(
    status: u16,
    body: &[u8],
) -> Result<Vec<RowAnswer<Verifica>>, AnistError> {
    Ok(rows(status, body)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            row(status, i, v, |v| {
                serde_json::from_value::<Verifica>(v).map_err(|e| {
                    unexpected(
                        status,
                        format!("row {i}: the verification cannot be read: {e}"),
                    )
                })
            })
        })
        .collect())
}

/// Reads the result of a massive ascertainment: one row per question.
///
/// # Errors
/// As [`decode_verify_rows`].
pub fn decode_ascertain_rows(
    status: u16,
    body: &[u8],
) -> Result<Vec<RowAnswer<Frequenza>>, AnistError> {
    Ok(rows(status, body)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| row(status, i, v, |v| super::accertamento::record(status, v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anist::YearSelector;
    use anist_core::attendance::EsitoFrequenza;
    use anist_core::cf::CodiceFiscale;
    use proptest::prelude::*;

    #[test]
    fn submission_body() {
        let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
        let qs = [
            Query::by_cf(cf),
            Query::by_cf(cf).year(YearSelector::Previous),
        ];
        assert_eq!(
            encode_submit(&qs, today),
            br#"{"richieste":[{"codiceFiscale":"RSSMRA80A01H501U"},{"codiceFiscale":"RSSMRA80A01H501U","annoScolastico":"2024/2025"}]}"#
        );
        assert_eq!(encode_submit(&[], today), br#"{"richieste":[]}"#);
    }

    #[test]
    fn accepted_and_progress() {
        assert_eq!(
            decode_accepted(202, br#"{"id":"a1-b2","status":"accepted"}"#).unwrap(),
            "a1-b2"
        );
        assert!(decode_accepted(202, br#"{"id":"../x"}"#).is_err());
        assert!(decode_accepted(202, br#"{"status":"accepted"}"#).is_err());
        assert!(decode_accepted(400, br#"{"id":"a"}"#).is_err());
        assert_eq!(
            decode_progress(200, br#"{"status":"processing"}"#).unwrap(),
            Progress::Processing
        );
        assert_eq!(
            decode_progress(200, br#"{"status":"failed","errore":"scaduto"}"#).unwrap(),
            Progress::Failed("scaduto".into())
        );
        assert!(decode_progress(200, br#"{"status":"boh"}"#).is_err());
    }

    #[test]
    fn locations() {
        let base = "http://127.0.0.1:9/govway/rest/in/MIM/verifica/v1";
        let ok = |l: &str| resolve_location(base, l);
        assert_eq!(
            ok("http://127.0.0.1:9/govway/rest/in/MIM/verifica/v1/frequenze/massiva/x").unwrap(),
            "frequenze/massiva/x"
        );
        assert_eq!(
            ok("/govway/rest/in/MIM/verifica/v1/frequenze/massiva/x/result").unwrap(),
            "frequenze/massiva/x/result"
        );
        assert_eq!(ok("frequenze/massiva/x").unwrap(), "frequenze/massiva/x");
        for bad in [
            "http://evil.example/govway/rest/in/MIM/verifica/v1/frequenze/massiva/x",
            "http://127.0.0.1:9/govway/rest/in/MIM/verifica/v10/x",
            "/govway/rest/in/MIM/altro/v1/x",
            "frequenze/../../x",
            "frequenze/massiva/x?y=1",
            "",
            base,
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn result_rows() {
        let body = br#"[
            {"codiceFiscale":"A","esito":"OK","frequentante":true,"esitoFrequenza":1},
            {"idANPR":"B","esito":"NON_TROVATO"},
            {"codiceFiscale":"C","esito":"ERRORE","errore":"codice RSSMRA80A01H501U non valido"},
            {"codiceFiscale":"D","esito":"OK"},
            {"esito":"FORSE"},
            7
        ]"#;
        let rows = decode_verify_rows(200, body).unwrap();
        assert_eq!(rows.len(), 6);
        assert_eq!(
            rows[0],
            Ok(Answer::Found(Verifica {
                frequentante: true,
                esito_frequenza: Some(EsitoFrequenza::Frequentante)
            }))
        );
        assert_eq!(rows[1], Ok(Answer::NotFound));
        match &rows[2] {
            Err(AnistError::RowFailed { reason }) => {
                assert!(reason.contains("non valido") && !reason.contains("RSSMRA80A01H501U"))
            }
            other => panic!("{other:?}"),
        }
        for r in &rows[3..] {
            assert_eq!(
                anist_core::ErrorCode::code(r.as_ref().unwrap_err()),
                "anist_unexpected_answer"
            );
        }
        let rows = decode_ascertain_rows(
            200,
            br#"[{"codiceFiscale":"A","esito":"OK","frequentante":true,"annoCorso":"2","esitoFrequenza":3}]"#,
        )
        .unwrap();
        let Ok(Answer::Found(f)) = &rows[0] else {
            panic!("{rows:?}")
        };
        assert_eq!(f.anno_corso, Some(2));
        assert!(decode_verify_rows(200, br#"{"rows":[]}"#).is_err());
        assert!(decode_verify_rows(404, b"[]").is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(status in any::<u16>(), body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_accepted(status, &body);
            let _ = decode_progress(status, &body);
            let _ = decode_verify_rows(status, &body);
            let _ = decode_ascertain_rows(status, &body);
        }

        #[test]
        fn arbitrary_rows_never_panic(json in "\\[(\\{(\"(esito|errore|frequentante|esitoFrequenza|annoCorso)\":(true|null|-?[0-9]{1,22}|\"(OK|NON_TROVATO|ERRORE|[^\"]{0,4})\"),?){0,4}\\},?){0,4}\\]") {
            let _ = decode_verify_rows(200, json.as_bytes());
            let _ = decode_ascertain_rows(200, json.as_bytes());
        }

        #[test]
        fn arbitrary_locations_never_panic(l in "\\PC{0,80}") {
            let _ = resolve_location("http://127.0.0.1:1/govway/rest/in/a/b/v1", &l);
        }
    }
}
