//! Tolerant CSV for the files Italian administrations exchange: Excel
//! exports in Windows-1252 with `;`, UTF-8 exports with or without BOM, ANPR
//! and MIM open data with `,`.
//!
//! # Reading
//!
//! [`CsvReader`] streams any [`Read`](std::io::Read) with bounded memory
//! (at most the record limit, 1 MiB by default, plus 64 KiB), reusing one
//! [`Row`] per call to [`CsvReader::read_row`]. It never reads the whole
//! file.
//!
//! - **BOM**: a UTF-8 byte-order mark is stripped (and means UTF-8). A
//!   UTF-16 BOM (Excel "Unicode text") is refused with `csv_encoding`.
//! - **Encoding**, decided per file with a per-field safety net: the first
//!   64 KiB ([`SNIFF_BYTES`]) are checked. If they are not valid UTF-8, the
//!   whole file is read as Windows-1252 (what Italian Excel writes). If they
//!   are (or there is a BOM), the file is read as UTF-8, and any later field
//!   that is not valid UTF-8 is read as Windows-1252 on its own and counted
//!   in [`ReaderStats::fallback_fields`]: a file whose first accented letter
//!   in 1252 comes after 64 KiB is still read, not refused. In 1252 `à` is
//!   byte `0xE0` and `€` is `0x80`. Italian text in 1252 is never valid
//!   UTF-8 (an accented letter is a UTF-8 lead byte followed by ASCII); only
//!   contrived text whose every non-ASCII run forms UTF-8 (`è€€`) would be
//!   taken for UTF-8. Callers can impose an encoding with
//!   [`ReaderBuilder::encoding`]; under imposed UTF-8 an invalid field is a
//!   `csv_encoding` error row.
//! - **Delimiter**: an Excel `sep=;` first line sets it (and is skipped);
//!   otherwise the most frequent of `;` `,` tab `|` outside quotes on the
//!   header line, ties going in that order. If none is there the file has a
//!   single column and each line is one field (a list of codes). Callers can
//!   impose one with [`ReaderBuilder::delimiter`].
//! - **Quoting** as Excel writes it (RFC 4180): a field starting with `"` is
//!   quoted, `""` inside is a quote, delimiters and line breaks inside are
//!   data. A quote inside an unquoted field is an ordinary character
//!   (`Rossi "Tony"`). Records end at `\n`, `\r\n` or a lone `\r`.
//! - **Header**: the first line that is not blank. Names are trimmed and
//!   mapped to logical [`Field`]s through [`Aliases`] (folded with
//!   [`fold_header`]: case, accents, blanks, `_` `-` `.` ignored).
//! - **Line numbers**: every row and error row carries the 1-based physical
//!   line where its record starts; a quoted field spanning lines moves the
//!   next record's line on accordingly (`\r\n` counts as one break).
//! - **Skipped silently** (counted in [`ReaderStats`]): blank lines; rows of
//!   empty unquoted fields only (`;;;;`, left by spreadsheets); empty fields
//!   past the header's count (a trailing delimiter on every line).
//! - **Error rows**, returned as [`ReadOutcome::Bad`] with a line number and
//!   a stable code, after which reading goes on:
//!   - `csv_field_count`: not the header's number of fields (strict mode,
//!     the default; see [`ReaderBuilder::strict`]);
//!   - `csv_quote`: text after a closing quote (`"Il "Duomo""`); a quote
//!     never closed (before the end of the file, or running over lines past
//!     the record limit); a quoted field running over lines in a record with
//!     the wrong number of fields (a stray quote swallowing the next lines);
//!   - `csv_record_too_long`: a record over the limit (1 MiB by default);
//!   - `csv_encoding`: not UTF-8 when UTF-8 is imposed.
//!
//!   After a `csv_quote` or `csv_record_too_long`, reading resumes at the
//!   physical line after the one where the bad record starts, so one stray
//!   quote costs one row, not the rest of the file.
//!
//! Fields are returned as written, once unquoted: no trimming.
//!
//! ```
//! use anist_core::csvio::{CsvReader, Encoding, Field, ReadOutcome, Row};
//! use anist_core::ErrorCode;
//!
//! // Italian Excel: Windows-1252, `;`.
//! let data = b"Cognome;Nome;Codice fiscale alunno\r\n\
//!              Nard\xe8lli;Ugo;NRDGUO80A01H501Q\r\n\
//!              \"Rossi;Verdi\";Ada\r\n\
//!              Bianchi;Nicol\xf2;BNCNCL80A01H501K\r\n";
//! let mut reader = CsvReader::new(&data[..]).unwrap();
//! assert_eq!(reader.dialect().encoding(), Encoding::Windows1252);
//! assert_eq!(reader.dialect().delimiter(), Some(b';'));
//! let cf = reader.headers().index(Field::CodiceFiscale).unwrap();
//! let mut row = Row::new();
//! let mut seen = Vec::new();
//! loop {
//!     match reader.read_row(&mut row).unwrap() {
//!         ReadOutcome::Row => seen.push((row.line(), row.get(1).unwrap().to_owned())),
//!         ReadOutcome::Bad(e) => seen.push((e.line().unwrap(), e.code().to_owned())),
//!         ReadOutcome::End => break,
//!     }
//! }
//! assert_eq!(seen, [
//!     (2, "Ugo".to_owned()),
//!     (3, "csv_field_count".to_owned()),
//!     (4, "Nicolò".to_owned()),
//! ]);
//! # let _ = cf;
//! ```
//!
//! # Writing
//!
//! [`CsvWriter`] with [`WriterOptions::excel`] (`;`, UTF-8 with BOM, CRLF,
//! `dd/mm/yyyy`) or [`WriterOptions::machine`] (`,`, UTF-8, LF, ISO dates),
//! optionally Windows-1252 for legacy programs. Fields are quoted when they
//! hold the delimiter, a quote, CR or LF, or start or end with a blank.
//! What it writes, the reader reads back unchanged.
//!
//! # Error codes
//!
//! | code | meaning | |
//! |---|---|---|
//! | `csv_io` | reading or writing failed | fatal |
//! | `csv_empty` | no header line | fatal |
//! | `csv_encoding` | UTF-16 input; or a field not valid in the imposed encoding | fatal; row |
//! | `csv_field_count` | not the header's number of fields (strict) | row |
//! | `csv_quote` | unreadable quoting | row (fatal in the header) |
//! | `csv_record_too_long` | record over the limit | row (fatal in the header) |
//! | `csv_missing_column` | a required column is not in the header | |
//! | `csv_unencodable` | a character the output encoding cannot hold | writer |
//! | `csv_date` | not a date in an accepted form ([`parse_date_it`]) | value |
//! | `csv_date_nonexistent` | accepted form, no such day | value |

use std::fmt;

mod date;
mod error;
mod header;
mod reader;
pub mod synthetic;
mod text;
mod writer;

pub use date::{format_date_it, parse_date_it};
pub use error::{CsvError, DateError, QuoteProblem};
pub use header::{Aliases, Field, Headers, Mapping, BUILTIN_ALIASES};
pub use reader::{
    sniff_delimiter, CsvReader, DelimiterSource, Dialect, InputEncoding, ReadOutcome,
    ReaderBuilder, ReaderStats, Row, Rows, DEFAULT_MAX_RECORD_BYTES, SNIFFED_DELIMITERS,
    SNIFF_BYTES,
};
pub use text::{fold_char, fold_header, is_1252_encodable};
pub use writer::{CsvWriter, DateStyle, LineEnding, Unmappable, WriterOptions};

/// A text encoding of CSV files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// UTF-8.
    Utf8,
    /// Windows-1252 (Western European; Latin-1 plus `€`, curly quotes, `Š`…
    /// in 0x80–0x9F), what Italian Excel writes for "CSV".
    Windows1252,
}

impl Encoding {
    /// `UTF-8` or `Windows-1252`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
