//! The CSV error vocabulary.

use std::fmt;
use std::io;

use crate::error::{CodeSamples, ErrorCode, ErrorKind};

use super::Encoding;

/// What went wrong with quoting in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuoteProblem {
    /// A quoted field is followed by something other than a delimiter or the
    /// end of the line, as in `"Il "Duomo" di Milano"` (inner quotes not
    /// doubled).
    TextAfterClosingQuote,
    /// A quote opened at the start of a field is not closed before the end
    /// of the file, or runs over line breaks past the record limit.
    Unclosed,
    /// A quoted field runs over several lines and the record does not have
    /// the header's number of fields: most likely a stray quote that swallowed
    /// the following lines.
    Runaway,
}

impl fmt::Display for QuoteProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuoteProblem::TextAfterClosingQuote => {
                "text after a closing quote (quotes inside a quoted field must be doubled)"
            }
            QuoteProblem::Unclosed => {
                "a quote is never closed (before the end of the file or the record limit)"
            }
            QuoteProblem::Runaway => {
                "a quoted field runs over several lines and the record has the wrong \
                 number of fields (a stray quote?)"
            }
        })
    }
}

/// Errors of the CSV reader and writer.
///
/// Every variant has a stable [`ErrorCode::code`]. Row-level errors
/// ([`is_row_error`](Self::is_row_error)) carry the 1-based physical line
/// where the record starts; the reader reports them and goes on with the next
/// record. Messages never contain field values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    /// Reading or writing failed (`csv_io`). Fatal.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The input has no header line: it is empty or blank (`csv_empty`). Fatal.
    #[error("the file has no header line: it is empty or blank")]
    Empty,
    /// The input starts with a UTF-16 byte-order mark (`csv_encoding`). Fatal.
    #[error(
        "the file is UTF-16 text (Excel \"Unicode text\"), which is not supported: \
         save it as \"CSV UTF-8\" or \"CSV (delimitato dal separatore di elenco)\""
    )]
    Utf16,
    /// A field is not valid text in the encoding the caller imposed
    /// (`csv_encoding`). Row-level; never happens with automatic detection.
    #[error("line {line}: field {column} is not valid {encoding}")]
    Encoding {
        /// 1-based line where the record starts.
        line: u64,
        /// 1-based field index.
        column: usize,
        /// The encoding the field should have been in.
        encoding: Encoding,
    },
    /// A record does not have the header's number of fields, in strict mode
    /// (`csv_field_count`). Row-level.
    #[error("line {line}: expected {expected} fields (as in the header), found {found}")]
    FieldCount {
        /// 1-based line where the record starts.
        line: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields in the record.
        found: usize,
    },
    /// Unreadable quoting (`csv_quote`). Row-level: reading resumes at the
    /// physical line after the one where the record starts. Fatal only in the
    /// header.
    #[error("line {line}: unreadable quoting in field {column}: {problem}")]
    Quote {
        /// 1-based line where the record starts.
        line: u64,
        /// 1-based field index where the problem was found.
        column: usize,
        /// What is wrong.
        problem: QuoteProblem,
    },
    /// A record is longer than the reader's limit (`csv_record_too_long`);
    /// one that is that long because a quote left open swallows the next
    /// lines is a [`CsvError::Quote`] instead. Row-level: reading resumes at
    /// the physical line after the one where the record starts.
    #[error("line {line}: the record is longer than {limit} bytes")]
    RecordTooLong {
        /// 1-based line where the record starts.
        line: u64,
        /// The limit in bytes.
        limit: usize,
    },
    /// A required column is not in the header (`csv_missing_column`).
    #[error("column {wanted:?} is not in the header")]
    MissingColumn {
        /// The column or logical field asked for.
        wanted: String,
    },
    /// The writer cannot represent a character in the output encoding
    /// (`csv_unencodable`). The row is not written.
    #[error("row {row}, field {column}: character U+{:04X} cannot be written in {encoding}", u32::from(*ch))]
    Unencodable {
        /// 1-based row number (the header is row 1).
        row: u64,
        /// 1-based field index.
        column: usize,
        /// The character.
        ch: char,
        /// The output encoding.
        encoding: Encoding,
    },
}

impl CsvError {
    /// Whether this error concerns one record only: the reader has skipped
    /// it and can go on.
    pub fn is_row_error(&self) -> bool {
        matches!(
            self,
            CsvError::Encoding { .. }
                | CsvError::FieldCount { .. }
                | CsvError::Quote { .. }
                | CsvError::RecordTooLong { .. }
        )
    }

    /// The 1-based physical line where the record in error starts, if the
    /// error concerns one record.
    pub fn line(&self) -> Option<u64> {
        match self {
            CsvError::Encoding { line, .. }
            | CsvError::FieldCount { line, .. }
            | CsvError::Quote { line, .. }
            | CsvError::RecordTooLong { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The 1-based field index the error applies to, if any.
    pub fn column(&self) -> Option<usize> {
        match self {
            CsvError::Encoding { column, .. }
            | CsvError::Quote { column, .. }
            | CsvError::Unencodable { column, .. } => Some(*column),
            _ => None,
        }
    }
}

impl ErrorCode for CsvError {
    fn code(&self) -> &'static str {
        match self {
            CsvError::Io(_) => "csv_io",
            CsvError::Empty => "csv_empty",
            CsvError::Utf16 | CsvError::Encoding { .. } => "csv_encoding",
            CsvError::FieldCount { .. } => "csv_field_count",
            CsvError::Quote { .. } => "csv_quote",
            CsvError::RecordTooLong { .. } => "csv_record_too_long",
            CsvError::MissingColumn { .. } => "csv_missing_column",
            CsvError::Unencodable { .. } => "csv_unencodable",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            CsvError::Io(_) => ErrorKind::Local,
            CsvError::Empty
            | CsvError::Utf16
            | CsvError::Encoding { .. }
            | CsvError::FieldCount { .. }
            | CsvError::Quote { .. }
            | CsvError::RecordTooLong { .. }
            | CsvError::MissingColumn { .. }
            | CsvError::Unencodable { .. } => ErrorKind::InvalidArgument,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for CsvError {
    fn samples() -> Vec<Self> {
        vec![
            CsvError::Io(io::Error::other("disk unplugged")),
            CsvError::Empty,
            CsvError::Utf16,
            CsvError::Encoding {
                line: 2,
                column: 1,
                encoding: Encoding::Utf8,
            },
            CsvError::FieldCount {
                line: 2,
                expected: 3,
                found: 2,
            },
            CsvError::Quote {
                line: 2,
                column: 1,
                problem: QuoteProblem::TextAfterClosingQuote,
            },
            CsvError::RecordTooLong {
                line: 2,
                limit: 1024,
            },
            CsvError::MissingColumn {
                wanted: "codice_fiscale".to_owned(),
            },
            CsvError::Unencodable {
                row: 2,
                column: 1,
                ch: 'ł',
                encoding: Encoding::Windows1252,
            },
        ]
    }
}

/// Why a string is not a date in one of the accepted forms (see
/// [`parse_date_it`](super::parse_date_it)). Messages never contain the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    /// Not in any accepted form (`csv_date`); empty input included.
    #[error("not a date in an accepted form (dd/mm/yyyy, d/m/yyyy or yyyy-mm-dd)")]
    Format,
    /// In an accepted form, but no such calendar day, as 31/02/2020 or
    /// 00/13/2020 (`csv_date_nonexistent`).
    #[error("the date has an accepted form but no such day exists (as 31/02 or month 13)")]
    Nonexistent,
}

impl ErrorCode for DateError {
    fn code(&self) -> &'static str {
        match self {
            DateError::Format => "csv_date",
            DateError::Nonexistent => "csv_date_nonexistent",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

#[doc(hidden)]
impl CodeSamples for DateError {
    fn samples() -> Vec<Self> {
        vec![DateError::Format, DateError::Nonexistent]
    }
}
