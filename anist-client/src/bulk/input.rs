//! Reading the input: the column, the local decisions, the ingestion.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anist_core::anpr::{IdAnpr, ID_ANPR_LEN};
use anist_core::cf::AnyCodiceFiscale;
use anist_core::csvio::{
    Aliases, CsvReader, Field, Headers, Mapping, ReadOutcome, ReaderBuilder, Row,
};
use anist_core::school::{obligation_status, SchoolYear};
use anist_core::ErrorCode;
use aws_lc_rs::digest;

use super::journal::Journal;
pub(crate) use super::journal::{AskKey, LocalRow};
use super::output::SUBJECT_META;
use super::BulkError;
use crate::encoding::hex_lower;

/// Rows per ingestion transaction.
const CHUNK: usize = 10_000;

/// How the values of the input's code column are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// Codici fiscali.
    Cf,
    /// ID ANPR (a column whose header names the ID ANPR).
    IdAnpr,
    /// A column without a known header: a 9-character value is an ID
    /// ANPR, anything else a codice fiscale.
    Auto,
}

/// Where the codes of an input are and how they are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeColumn {
    /// The column of the codes (0-based).
    pub index: usize,
    /// How its values are read.
    pub kind: CodeKind,
    /// With both a codice fiscale and an ID ANPR column (and no column
    /// named by the caller): the ID ANPR column, for the rows without a
    /// codice fiscale.
    pub fallback: Option<usize>,
}

/// Picks the code column of an input by its header: the column `named` by
/// the caller (`--column`), else the codice fiscale column, else the ID
/// ANPR one, else the only column of a header-less list of codes.
///
/// # Errors
/// [`BulkError::Column`] (code `bulk_column`, message in Italian) when the
/// named column is not in the header or no column is recognised.
pub fn code_column(
    headers: &Headers,
    aliases: &Aliases,
    named: Option<&str>,
) -> Result<CodeColumn, BulkError> {
    let column = |index, kind, fallback| CodeColumn {
        index,
        kind,
        fallback,
    };
    match named {
        Some(name) => {
            let i = headers
                .find(name, aliases)
                .ok_or_else(|| BulkError::no_such_column(name))?;
            let id = matches!(
                headers.mapping(i),
                Some(Mapping::Field(Field::IdAnpr) | Mapping::Duplicate(Field::IdAnpr))
            );
            Ok(if id {
                column(i, CodeKind::IdAnpr, None)
            } else {
                column(i, CodeKind::Cf, None)
            })
        }
        None => match (
            headers.index(Field::CodiceFiscale),
            headers.index(Field::IdAnpr),
        ) {
            (Some(i), id) => Ok(column(i, CodeKind::Cf, id)),
            (None, Some(i)) => Ok(column(i, CodeKind::IdAnpr, None)),
            (None, None) if headers.len() == 1 => Ok(column(0, CodeKind::Auto, None)),
            (None, None) => Err(BulkError::no_cf_column()),
        },
    }
}

pub(crate) fn input_error(path: &Path, e: impl std::fmt::Display) -> BulkError {
    BulkError::Input {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// SHA-256 of the input's bytes, lower-case hex.
pub(crate) fn hash_file(path: &Path) -> Result<String, BulkError> {
    let mut file = File::open(path).map_err(|e| input_error(path, e))?;
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => ctx.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(input_error(path, e)),
        }
    }
    Ok(hex_lower(ctx.finish().as_ref()))
}

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

fn bad_row(line: u64, code: &str) -> LocalRow {
    LocalRow {
        line,
        given: String::new(),
        ask: None,
        esito: Some("error"),
        motivo: Some(code.to_owned()),
        obbligo: None,
    }
}

/// Reads the input into the journal, in chunks; marks the ingestion
/// complete at the end.
pub(crate) fn ingest(
    path: &Path,
    cf_column: Option<&str>,
    year: SchoolYear,
    journal: &mut Journal,
) -> Result<(), BulkError> {
    let file = File::open(path).map_err(|e| input_error(path, e))?;
    let aliases = Aliases::new();
    let mut reader: CsvReader<BufReader<File>> = ReaderBuilder::new()
        .strict(false)
        .aliases(aliases.clone())
        .from_reader(BufReader::new(file))
        .map_err(|e| match e {
            anist_core::csvio::CsvError::Io(io) => input_error(path, io),
            other => BulkError::Csv(other),
        })?;
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
    journal.conn().execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
        rusqlite::params![SUBJECT_META, subject_column],
    )?;
    let mut chunk = journal.ingest_chunk()?;
    let mut in_chunk = 0usize;
    // A one-column list of codes without a header: the "header" is the
    // first code.
    if kind == CodeKind::Auto && cf_column.is_none() {
        if let Some(first) = headers.names().first() {
            if AnyCodiceFiscale::parse(first).is_ok() || IdAnpr::parse(first).is_ok() {
                chunk.push(&classify_as(reader.header_line(), first, year, kind))?;
                in_chunk += 1;
            }
        }
    }
    let mut row = Row::new();
    loop {
        let local = match reader.read_row(&mut row) {
            Ok(ReadOutcome::Row) => {
                let given = row.get(column).unwrap_or("");
                match fallback.and_then(|i| row.get(i)) {
                    Some(id) if given.trim().is_empty() && !id.trim().is_empty() => {
                        classify_as(row.line(), id, year, CodeKind::IdAnpr)
                    }
                    _ => classify_as(row.line(), given, year, kind),
                }
            }
            Ok(ReadOutcome::Bad(e)) => bad_row(e.line().unwrap_or(0), e.code()),
            Ok(ReadOutcome::End) => break,
            Err(e) => return Err(input_error(path, e)),
        };
        chunk.push(&local)?;
        in_chunk += 1;
        if in_chunk >= CHUNK {
            chunk.commit()?;
            chunk = journal.ingest_chunk()?;
            in_chunk = 0;
        }
    }
    chunk.commit()?;
    journal.set_ingested()
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
