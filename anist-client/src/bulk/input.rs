//! Reading a job's input: the code column, the input's fingerprint.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anist_core::csvio::{Aliases, CsvReader, Field, Headers, Mapping, ReaderBuilder};
use aws_lc_rs::digest;

use super::BulkError;
use crate::encoding::hex_lower;

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

/// Opens the input with anist-core's tolerant reader (`aliases` for its
/// header).
pub(crate) fn open_input(
    path: &Path,
    aliases: &Aliases,
) -> Result<CsvReader<BufReader<File>>, BulkError> {
    let file = File::open(path).map_err(|e| input_error(path, e))?;
    ReaderBuilder::new()
        .strict(false)
        .aliases(aliases.clone())
        .from_reader(BufReader::new(file))
        .map_err(|e| match e {
            anist_core::csvio::CsvError::Io(io) => input_error(path, io),
            other => BulkError::Csv(other),
        })
}
