//! Reading the input: the column, the local decisions, the ingestion.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anist_core::cf::{AnyCodiceFiscale, CodiceFiscale};
use anist_core::csvio::{Aliases, CsvReader, Field, ReadOutcome, ReaderBuilder, Row};
use anist_core::school::{obligation_status, SchoolYear};
use anist_core::ErrorCode;
use aws_lc_rs::digest;

use super::journal::Journal;
use super::BulkError;
use crate::encoding::hex_lower;

/// Rows per ingestion transaction.
const CHUNK: usize = 10_000;

/// One input row as journaled: either decided locally (`esito` set) or to
/// be asked about (`ask` set).
#[derive(Debug, Clone)]
pub(crate) struct LocalRow {
    pub(crate) line: u64,
    pub(crate) given: String,
    pub(crate) ask: Option<CodiceFiscale>,
    pub(crate) esito: Option<&'static str>,
    pub(crate) motivo: Option<String>,
    pub(crate) obbligo: Option<&'static str>,
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

/// Decides what a code needs, locally.
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
                _ => row.ask = Some(cf),
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
    let column = match cf_column {
        Some(name) => headers
            .find(name, &aliases)
            .ok_or_else(|| BulkError::no_such_column(name))?,
        None => match headers.index(Field::CodiceFiscale) {
            Some(i) => i,
            None if headers.len() == 1 => 0,
            None => return Err(BulkError::no_cf_column()),
        },
    };
    let mut chunk = journal.ingest_chunk()?;
    let mut in_chunk = 0usize;
    // A one-column list of codes without a header: the "header" is the
    // first code.
    if cf_column.is_none() && headers.len() == 1 && headers.index(Field::CodiceFiscale).is_none() {
        if let Some(first) = headers.names().first() {
            if AnyCodiceFiscale::parse(first).is_ok() {
                chunk.push(&classify(reader.header_line(), first, year))?;
                in_chunk += 1;
            }
        }
    }
    let mut row = Row::new();
    loop {
        let local = match reader.read_row(&mut row) {
            Ok(ReadOutcome::Row) => classify(row.line(), row.get(column).unwrap_or(""), year),
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
            prop_assert!(row.ask == Some(cf) || row.esito == Some("not_obliged"));
        }
    }
}
