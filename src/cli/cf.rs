//! The `anist cf check` job: validate one codice fiscale per line (or one CSV
//! column) and write an Excel-friendly CSV report.
//!
//! Output header:
//! `input,valid,normalized,error,birth_date,sex,place_code,place_name,omocodia_level,warnings`.
//!
//! By default the report is plain CSV (`,`, ISO dates, no byte-order mark)
//! for scripts and pipes; with [`CheckOptions::excel`] (`anist cf check
//! --out FILE`) it opens in Italian Excel like the other CSVs of anist:
//! UTF-8 byte-order mark, `;`, dates `dd/mm/yyyy`.
//!
//! ```
//! use anist::cli::cf::{check_lines, CheckOptions};
//! use chrono::NaiveDate;
//!
//! let input = b"RSSMRA80A01H501U\nnot a code\n";
//! let mut out = Vec::new();
//! let opts = CheckOptions::new(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
//! let summary = check_lines(&input[..], &mut out, &opts).unwrap();
//! assert_eq!((summary.valid, summary.invalid), (1, 1));
//! let text = String::from_utf8(out).unwrap();
//! assert!(text.contains("RSSMRA80A01H501U,true,RSSMRA80A01H501U,,1980-01-01,M,H501,ROMA,0,"));
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};

use anist_core::cf::{AnyCodiceFiscale, CenturyPolicy, MostRecentNotFuture};
use anist_core::csvio::{CsvError, ReadOutcome, ReaderBuilder, Row};
use anist_core::{place, ErrorCode};
use chrono::NaiveDate;

/// The report's header line.
pub const HEADER: &str =
    "input,valid,normalized,error,birth_date,sex,place_code,place_name,omocodia_level,warnings";

/// How to run a check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Reference date for the century of two-digit birth years (usually today).
    pub reference: NaiveDate,
    /// Write the report for Italian Excel, like the other CSVs of anist:
    /// UTF-8 byte-order mark, `;` separator, dates `dd/mm/yyyy` (default
    /// false: `,` and ISO dates, for scripts and pipes).
    pub excel: bool,
}

impl CheckOptions {
    /// Options with the given reference date (plain CSV).
    pub fn new(reference: NaiveDate) -> Self {
        Self {
            reference,
            excel: false,
        }
    }
}

/// Counts of a finished check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckSummary {
    /// Codes that passed every check.
    pub valid: u64,
    /// Codes that failed a check.
    pub invalid: u64,
    /// Valid codes with a warning (e.g. place out of period).
    pub with_warnings: u64,
}

/// Errors of a check job (I/O or input layout, never a single bad code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// Reading the input or writing the report failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The CSV could not be read (I/O, empty file, unsupported encoding).
    #[error("CSV error: {0}")]
    Csv(#[from] CsvError),
    /// The requested column is not in the header.
    #[error("column {wanted:?} is not in the header; the columns are: {available}")]
    MissingColumn {
        /// The column asked for.
        wanted: String,
        /// The header's column names, comma-separated.
        available: String,
    },
}

impl CheckError {
    /// A stable code for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            CheckError::Io(_) => "io",
            CheckError::Csv(e) => e.code(),
            CheckError::MissingColumn { .. } => "csv_missing_column",
        }
    }
}

/// Writes report rows into an in-memory buffer, flushed in large chunks.
struct ReportWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    policy: MostRecentNotFuture,
    summary: CheckSummary,
    /// The separator: `,`, or `;` for Excel.
    sep: u8,
    /// Dates as `dd/mm/yyyy` (Excel) instead of ISO.
    italian_dates: bool,
}

/// Appends `n` separators.
fn seps(buf: &mut Vec<u8>, sep: u8, n: usize) {
    buf.extend(std::iter::repeat_n(sep, n));
}

const FLUSH_AT: usize = 1 << 16;

impl<W: Write> ReportWriter<W> {
    fn new(out: W, opts: &CheckOptions) -> io::Result<Self> {
        let mut w = Self {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 1024),
            policy: MostRecentNotFuture::new(opts.reference),
            summary: CheckSummary::default(),
            sep: if opts.excel { b';' } else { b',' },
            italian_dates: opts.excel,
        };
        if opts.excel {
            w.buf.extend_from_slice(BOM);
            w.buf.extend_from_slice(HEADER.replace(',', ";").as_bytes());
        } else {
            w.buf.extend_from_slice(HEADER.as_bytes());
        }
        w.buf.extend_from_slice(b"\r\n");
        Ok(w)
    }

    fn row(&mut self, input: &[u8]) -> io::Result<()> {
        let sep = self.sep;
        let buf = &mut self.buf;
        push_field(buf, input, sep);
        match AnyCodiceFiscale::parse_bytes(input) {
            Err(e) => {
                self.summary.invalid += 1;
                buf.push(sep);
                buf.extend_from_slice(b"false");
                seps(buf, sep, 2);
                buf.extend_from_slice(e.code().as_bytes());
                seps(buf, sep, 6);
            }
            Ok(AnyCodiceFiscale::Numerico(n)) => {
                self.summary.valid += 1;
                buf.push(sep);
                buf.extend_from_slice(b"true");
                buf.push(sep);
                buf.extend_from_slice(n.as_str().as_bytes());
                seps(buf, sep, 7);
            }
            Ok(AnyCodiceFiscale::Persona(cf)) => {
                self.summary.valid += 1;
                buf.push(sep);
                buf.extend_from_slice(b"true");
                buf.push(sep);
                buf.extend_from_slice(cf.as_bytes());
                buf.push(sep);
                let (m, d) = (cf.birth_month(), cf.birth_day());
                let year = self.policy.year(cf.birth_year_2digit(), m, d);
                buf.push(sep);
                if let Some(y) = year {
                    push_date(buf, y, m, d, self.italian_dates);
                }
                buf.push(sep);
                buf.extend_from_slice(cf.sex().as_str().as_bytes());
                buf.push(sep);
                let code = cf.belfiore_code();
                buf.extend_from_slice(code.as_bytes());
                buf.push(sep);
                let eras = place::eras(code.as_bytes());
                let ymd = year
                    .and_then(|y| u32::try_from(y).ok())
                    .map(|y| y * 10_000 + u32::from(m) * 100 + u32::from(d));
                let at_birth = ymd.and_then(|ymd| eras.iter().find(|e| e.contains_ymd(ymd)));
                if let Some(era) = at_birth.or(eras.last()) {
                    push_field(buf, era.name().as_bytes(), sep);
                }
                buf.push(sep);
                buf.push(b'0' + cf.omocodia_level());
                buf.push(sep);
                if at_birth.is_none() && ymd.is_some() && !eras.is_empty() {
                    self.summary.with_warnings += 1;
                    buf.extend_from_slice(b"cf_place_out_of_period");
                }
            }
        }
        buf.extend_from_slice(b"\r\n");
        if buf.len() >= FLUSH_AT {
            self.out.write_all(buf)?;
            buf.clear();
        }
        Ok(())
    }

    /// A record the CSV reader could not split: reported, never dropped.
    fn bad_record(&mut self, code: &str) -> io::Result<()> {
        self.summary.invalid += 1;
        let sep = self.sep;
        self.buf.push(sep);
        self.buf.extend_from_slice(b"false");
        seps(&mut self.buf, sep, 2);
        self.buf.extend_from_slice(code.as_bytes());
        seps(&mut self.buf, sep, 6);
        self.buf.extend_from_slice(b"\r\n");
        Ok(())
    }

    fn finish(mut self) -> io::Result<CheckSummary> {
        self.out.write_all(&self.buf)?;
        self.out.flush()?;
        Ok(self.summary)
    }
}

/// Appends a CSV field, quoted only when it must be.
fn push_field(buf: &mut Vec<u8>, field: &[u8], sep: u8) {
    if field
        .iter()
        .any(|&b| b == sep || matches!(b, b'"' | b'\r' | b'\n'))
    {
        buf.push(b'"');
        for &b in field {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(field);
    }
}

fn push_date(buf: &mut Vec<u8>, y: i32, m: u8, d: u8, italian: bool) {
    let y = y.clamp(0, 9999) as u16;
    if italian {
        buf.extend_from_slice(&[
            b'0' + d / 10,
            b'0' + d % 10,
            b'/',
            b'0' + m / 10,
            b'0' + m % 10,
            b'/',
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
        ]);
        return;
    }
    buf.extend_from_slice(&[
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + m / 10,
        b'0' + m % 10,
        b'-',
        b'0' + d / 10,
        b'0' + d % 10,
    ]);
}

fn trim_line(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., b'\n' | b'\r'] = line {
        line = rest;
    }
    line.trim_ascii()
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Checks one code per line. Blank lines are skipped; a UTF-8 byte-order mark
/// is ignored; bytes that are not UTF-8 are reported as invalid characters.
pub fn check_lines<R: Read, W: Write>(
    input: R,
    output: W,
    opts: &CheckOptions,
) -> Result<CheckSummary, CheckError> {
    let mut reader = BufReader::with_capacity(1 << 18, input);
    let mut writer = ReportWriter::new(output, opts)?;
    let mut line = Vec::with_capacity(64);
    let mut first = true;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let mut l = trim_line(&line);
        if first {
            l = l.strip_prefix(BOM).unwrap_or(l);
            first = false;
        }
        if !l.is_empty() {
            writer.row(l)?;
        }
    }
    Ok(writer.finish()?)
}

/// Checks the column named `column` of a CSV file with a header, read by the
/// tolerant reader of [`anist_core::csvio`]: UTF-8 or Windows-1252, delimiter
/// sniffed, the name matched like a header alias (case, accents, blanks and
/// underscores folded; `cf`, `codfisc`, … find the codice fiscale column).
/// A record the reader cannot split (e.g. an unclosed quote) becomes a row with
/// an empty input, `valid=false` and the reader's error code, and reading goes on.
pub fn check_csv_column<R: Read, W: Write>(
    input: R,
    output: W,
    column: &str,
    opts: &CheckOptions,
) -> Result<CheckSummary, CheckError> {
    let mut reader = ReaderBuilder::new().strict(false).from_reader(input)?;
    let Some(idx) = reader.headers().find(column, reader.aliases()) else {
        return Err(CheckError::MissingColumn {
            wanted: column.to_owned(),
            available: reader.headers().names().join(", "),
        });
    };
    let mut writer = ReportWriter::new(output, opts)?;
    let mut row = Row::new();
    loop {
        match reader.read_row(&mut row)? {
            ReadOutcome::Row => writer.row(row.get(idx).unwrap_or("").trim().as_bytes())?,
            ReadOutcome::Bad(e) => writer.bad_record(e.code())?,
            ReadOutcome::End => break,
        }
    }
    Ok(writer.finish()?)
}
