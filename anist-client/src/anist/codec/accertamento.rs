//! "ANIST - Accertamento Frequenze" (§8.2, the path observed in
//! production): `POST <url>/frequenze/accertamento-frequenza` with the body
//! of [`super::encode_query`]; `200` with the record of
//! [`anist_core::attendance::Frequenza`] (`frequentante`,
//! `codiceIstitutoPrincipale`, `denoIstitutoPrincipale`,
//! `codiceMeccanografico`, `denominazionePlesso`, `percorsoStudi`,
//! `annoCorso` as a number or a string, `esitoFrequenza`).

use anist_core::attendance::Frequenza;
use chrono::NaiveDate;

use super::unexpected;
use crate::anist::{AnistError, Query};

/// The operation, relative to the e-service URL.
pub const PATH: &str = "frequenze/accertamento-frequenza";

/// The exact request body.
pub fn encode(query: &Query, today: NaiveDate) -> Vec<u8> {
    super::encode_query(query, today)
}

/// Reads a record (a JSON object); it must say `frequentante` or
/// `esitoFrequenza`, the other fields are optional. A record with
/// `frequentante: false` is an answer like any other.
///
/// # Errors
/// [`AnistError::Unexpected`] for another status or another body.
pub fn decode(status: u16, body: &[u8]) -> Result<Frequenza, AnistError> {
    if status != 200 {
        return Err(unexpected(
            status,
            "the ascertainment answered neither 200 nor an error",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| unexpected(status, format!("the ascertainment answer is not JSON: {e}")))?;
    record(status, value)
}

/// A record from a JSON value (also a row of the massive answer).
pub(crate) fn record(status: u16, value: serde_json::Value) -> Result<Frequenza, AnistError> {
    if !value.is_object() {
        return Err(unexpected(
            status,
            format!(
                "the ascertainment record is {}, not an object",
                super::kind_of(&value)
            ),
        ));
    }
    let f: Frequenza = serde_json::from_value(value).map_err(|e| {
        unexpected(
            status,
            format!("the ascertainment record cannot be read: {e}"),
        )
    })?;
    if f.frequentante.is_none() && f.esito_frequenza.is_none() {
        return Err(unexpected(
            status,
            "the ascertainment record has neither frequentante nor esitoFrequenza",
        ));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anist_core::attendance::EsitoFrequenza;
    use proptest::prelude::*;

    #[test]
    fn records() {
        let body = br#"{"frequentante":true,"codiceIstitutoPrincipale":"RMIC81500N","denoIstitutoPrincipale":"IC Via Roma",
            "codiceMeccanografico":"RMEE81501P","denominazionePlesso":"Plesso A","percorsoStudi":"PRIMARIA",
            "annoCorso":3,"esitoFrequenza":1,"nuovoCampo":"x"}"#;
        let f = decode(200, body).unwrap();
        assert_eq!(f.anno_corso, Some(3));
        assert_eq!(f.esito_frequenza, Some(EsitoFrequenza::Frequentante));
        assert_eq!(f.istituto().unwrap().as_str(), "RMIC81500N");
        assert_eq!(f.percorso_studi.as_deref(), Some("PRIMARIA"));
        let f = decode(
            200,
            br#"{"frequentante":true,"annoCorso":"4","esitoFrequenza":3}"#,
        )
        .unwrap();
        assert_eq!(f.anno_corso, Some(4));
        assert_eq!(
            f.esito_frequenza,
            Some(EsitoFrequenza::FrequentanteAltroAnnoCorso)
        );
        let f = decode(200, br#"{"esitoFrequenza":42,"annoCorso":""}"#).unwrap();
        assert_eq!(f.esito_frequenza, Some(EsitoFrequenza::Unknown(42)));
        assert_eq!(f.anno_corso, None);
        let f = decode(200, br#"{"frequentante":false}"#).unwrap();
        assert_eq!(f.is_attending(), Some(false));
        for bad in [
            &br#"{}"#[..],
            br#"{"frequentante":true,"annoCorso":400}"#,
            br#"{"frequentante":1}"#,
            br#"[{"frequentante":true}]"#,
            b"null",
            b"\xff\xfe",
        ] {
            let e = decode(200, bad).unwrap_err();
            assert_eq!(anist_core::ErrorCode::code(&e), "anist_unexpected_answer");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(status in any::<u16>(), body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(status, &body);
        }

        #[test]
        fn arbitrary_json_never_panics(json in "\\{(\"(frequentante|esitoFrequenza|annoCorso|codiceMeccanografico)\":(true|false|null|-?[0-9]{1,25}|\"[^\"]{0,5}\"|\\[\\]|\\{\\}),?){0,4}\\}") {
            let _ = decode(200, json.as_bytes());
        }
    }
}
