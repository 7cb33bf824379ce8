//! The attendance job's input: what each code needs, decided locally,
//! and the ingestion.

use std::path::Path;

use anist_core::anpr::{IdAnpr, ID_ANPR_LEN};
use anist_core::cf::AnyCodiceFiscale;
use anist_core::csvio::Aliases;
use anist_core::school::{obligation_status, SchoolYear};
use anist_core::ErrorCode;

use super::journal::Journal;
pub(crate) use super::journal::{AskKey, LocalRow};
use super::output::SUBJECT_META;
use crate::bulk::input::{code_column, open_input, CodeColumn, CodeKind};
use crate::bulk::BulkError;

/// Whether `given` looks like an ID ANPR rather than a codice fiscale:
/// 9 letters and digits once blanks are dropped.
fn looks_like_id_anpr(given: &str) -> bool {
    let compact: Vec<char> = given.chars().filter(|c| !c.is_whitespace()).collect();
    compact.len() == ID_ANPR_LEN && compact.iter().all(char::is_ascii_alphanumeric)
}

/// Decides what a code of a column of `kind` needs, locally.
pub(crate) fn classify_as(line: u64, given: &str, year: SchoolYear, kind: CodeKind) -> LocalRow {
    let id = match kind {
        CodeKind::IdAnpr => true,
        CodeKind::Auto => looks_like_id_anpr(given),
        CodeKind::Cf => false,
    };
    if !id {
        return classify(line, given, year);
    }
    let mut row = LocalRow {
        line,
        given: given.to_owned(),
        ask: None,
        esito: None,
        motivo: None,
        obbligo: None,
    };
    match IdAnpr::parse(given) {
        Ok(id) => row.ask = Some(AskKey::Id(id)),
        Err(e) => {
            row.esito = Some("invalid_code");
            row.motivo = Some(e.code().to_owned());
        }
    }
    row
}

/// Decides what a codice fiscale needs, locally.
pub(crate) fn classify(line: u64, given: &str, year: SchoolYear) -> LocalRow {
    let mut row = LocalRow {
        line,
        given: given.to_owned(),
        ask: None,
        esito: None,
        motivo: None,
        obbligo: None,
    };
    match AnyCodiceFiscale::parse(given) {
        Err(e) => {
            row.esito = Some("invalid_code");
            row.motivo = Some(e.code().to_owned());
        }
        Ok(AnyCodiceFiscale::Numerico(n)) => {
            if n.kind().may_be_person() {
                row.esito = Some("error");
                row.motivo = Some(String::from("bulk_numeric_code"));
            } else {
                row.esito = Some("invalid_code");
                row.motivo = Some(String::from("bulk_not_a_person"));
            }
        }
        Ok(AnyCodiceFiscale::Persona(cf)) => {
            // The century closest before the end of the school year: a
            // code of yy = 20 is a child in 2025/26, not a centenarian.
            let status = cf
                .birth_date_relative_to(year.last_day())
                .map(|b| obligation_status(b, year));
            row.obbligo = status.map(|s| s.as_str());
            match status {
                Some(s) if !s.is_compulsory() => {
                    row.esito = Some("not_obliged");
                }
                _ => row.ask = Some(AskKey::Cf(cf)),
            }
        }
    }
    row
}

/// Reads the input into the journal; marks the ingestion complete at the
/// end.
pub(crate) fn ingest(
    path: &Path,
    cf_column: Option<&str>,
    year: SchoolYear,
    journal: &mut Journal,
) -> Result<(), BulkError> {
    let aliases = Aliases::new();
    let mut reader = open_input(path, &aliases)?;
    let headers = reader.headers().clone();
    let CodeColumn {
        index: column,
        kind,
        fallback,
    } = code_column(&headers, &aliases, cf_column)?;
    let subject_column = if kind == CodeKind::IdAnpr {
        "id_anpr"
    } else {
        "codice_fiscale"
    };
    journal.set_meta(SUBJECT_META, subject_column)?;
    // A one-column list of codes without a header: the "header" is the
    // first code.
    let mut first = Vec::new();
    if kind == CodeKind::Auto && cf_column.is_none() {
        if let Some(code) = headers.names().first() {
            if AnyCodiceFiscale::parse(code).is_ok() || IdAnpr::parse(code).is_ok() {
                first.push(classify_as(reader.header_line(), code, year, kind).into());
            }
        }
    }
    journal.ingest(path, &mut reader, first, |row| {
        let given = row.get(column).unwrap_or("");
        Ok(match fallback.and_then(|i| row.get(i)) {
            Some(id) if given.trim().is_empty() && !id.trim().is_empty() => {
                classify_as(row.line(), id, year, CodeKind::IdAnpr)
            }
            _ => classify_as(row.line(), given, year, kind),
        }
        .into())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text gets exactly one disposition: asked, or decided locally
        /// with a stable code; never a panic.
        #[test]
        fn every_input_gets_one_disposition(given in "\\PC{0,24}") {
            let year = SchoolYear::starting(2025).unwrap();
            let row = classify(7, &given, year);
            prop_assert_eq!(row.line, 7);
            prop_assert_eq!(&row.given, &given);
            prop_assert!(row.ask.is_some() != row.esito.is_some());
            if let Some(esito) = row.esito {
                prop_assert!(["invalid_code", "not_obliged", "error"].contains(&esito));
                if esito != "not_obliged" {
                    prop_assert!(row.motivo.as_deref().is_some_and(|m| !m.is_empty()));
                }
            }
        }

        /// In an ID ANPR column, any text is asked about as an ID ANPR or
        /// is `invalid_code` with an `anpr_*` code; journaled keys read back.
        #[test]
        fn id_anpr_values_get_one_disposition(given in "\\PC{0,12}", auto in any::<bool>()) {
            let year = SchoolYear::starting(2025).unwrap();
            let kind = if auto { CodeKind::Auto } else { CodeKind::IdAnpr };
            let row = classify_as(3, &given, year, kind);
            prop_assert!(row.ask.is_some() != row.esito.is_some());
            if let Some(key) = row.ask {
                prop_assert_eq!(AskKey::parse(key.as_str()), Some(key));
            }
            if !auto {
                if let Some(m) = &row.motivo {
                    prop_assert!(m.starts_with("anpr_"), "{}", m);
                }
            }
        }

        /// Valid codes are asked about or found outside the obligation,
        /// whatever their case and blanks.
        #[test]
        fn valid_codes_are_never_invalid(seed in any::<u64>(), upper in any::<bool>()) {
            let from = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
            let to = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
            let cf = anist_core::synthetic::SyntheticPeople::new(seed, from, to)
                .next_person()
                .codice_fiscale;
            let text = if upper { cf.as_str().to_owned() } else { format!(" {} ", cf.as_str().to_lowercase()) };
            let row = classify(2, &text, SchoolYear::starting(2025).unwrap());
            prop_assert!(row.esito != Some("invalid_code"));
            prop_assert!(row.ask == Some(AskKey::Cf(cf)) || row.esito == Some("not_obliged"));
        }
    }

    #[test]
    fn an_id_anpr_is_asked_as_an_id_anpr() {
        let year = SchoolYear::starting(2025).unwrap();
        let row = classify_as(2, "AF41450AS", year, CodeKind::IdAnpr);
        assert_eq!(
            row.ask,
            Some(AskKey::Id(IdAnpr::parse("AF41450AS").unwrap()))
        );
        assert_eq!(row.obbligo, None);
        // Auto: 9 characters are an ID ANPR, 16 a codice fiscale.
        let row = classify_as(2, " af41450as ", year, CodeKind::Auto);
        assert!(matches!(row.ask, Some(AskKey::Id(_))));
        let row = classify_as(2, "RSSMRA80A01H501U", year, CodeKind::Auto);
        assert_eq!(row.esito, Some("not_obliged"));
        // A codice fiscale in an ID ANPR column is not a valid ID ANPR.
        let row = classify_as(2, "RSSMRA80A01H501U", year, CodeKind::IdAnpr);
        assert_eq!(row.esito, Some("invalid_code"));
        assert_eq!(row.motivo.as_deref(), Some("anpr_length"));
    }
}
