//! "ANIST - Frequenze" (verifica frequenze), assumption U8:
//! `POST <url>/frequenze/verifica-frequenza` with the body of
//! [`super::encode_query`]; `200 {"frequentante": bool, "esitoFrequenza"?: 1..4}`.

use anist_core::attendance::Verifica;
use chrono::NaiveDate;

use super::unexpected;
use crate::anist::{AnistError, Query};

/// The operation, relative to the e-service URL.
pub const PATH: &str = "frequenze/verifica-frequenza";

/// The exact request body.
pub fn encode(query: &Query, today: NaiveDate) -> Vec<u8> {
    super::encode_query(query, today)
}

/// Reads a successful answer: `frequentante` is required, `esitoFrequenza`
/// optional (unknown codes are kept), other members are ignored.
///
/// # Errors
/// [`AnistError::Unexpected`] for another status or another body.
pub fn decode(status: u16, body: &[u8]) -> Result<Verifica, AnistError> {
    if status != 200 {
        return Err(unexpected(
            status,
            "the verification answered neither 200 nor an error",
        ));
    }
    serde_json::from_slice::<Verifica>(body).map_err(|e| {
        unexpected(
            status,
            format!("the verification answer is not {{\"frequentante\": bool, \"esitoFrequenza\"?: n}}: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anist_core::attendance::EsitoFrequenza;
    use proptest::prelude::*;

    #[test]
    fn answers() {
        assert_eq!(
            decode(200, br#"{"frequentante":true,"esitoFrequenza":1}"#).unwrap(),
            Verifica {
                frequentante: true,
                esito_frequenza: Some(EsitoFrequenza::Frequentante)
            }
        );
        assert_eq!(
            decode(200, br#"{"frequentante":false}"#).unwrap(),
            Verifica {
                frequentante: false,
                esito_frequenza: None
            }
        );
        let v = decode(
            200,
            br#"{"frequentante":false,"esitoFrequenza":"9","altro":[1]}"#,
        )
        .unwrap();
        assert_eq!(v.esito_frequenza, Some(EsitoFrequenza::Unknown(9)));
        let v = decode(200, br#"{"frequentante":false,"esitoFrequenza":null}"#).unwrap();
        assert_eq!(v.esito_frequenza, None);
        for bad in [
            &br#"{}"#[..],
            br#"{"frequentante":"si"}"#,
            br#"{"frequentante":true,"esitoFrequenza":"uno"}"#,
            br#"[]"#,
            b"",
            b"<html>",
        ] {
            let e = decode(200, bad).unwrap_err();
            assert_eq!(anist_core::ErrorCode::code(&e), "anist_unexpected_answer");
        }
        assert!(decode(204, br#"{"frequentante":true}"#).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(status in any::<u16>(), body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(status, &body);
        }

        #[test]
        fn arbitrary_json_never_panics(json in "\\{(\"(frequentante|esitoFrequenza)\":(true|false|null|-?[0-9]{1,25}|\"[^\"]{0,5}\"),?){0,3}\\}") {
            let _ = decode(200, json.as_bytes());
        }
    }
}
