//! The `anist csv inspect` job: describe a CSV file without printing its
//! data — encoding, delimiter, header mapping, row count, bad rows, and how
//! many codici fiscali and birth dates are invalid, by error code.
//!
//! The report holds counts, header names and error codes only: never a field
//! value. A header cell that looks like a codice fiscale or a date (a file
//! without header line, whose first row is data) is masked.
//!
//! ```
//! use anist::cli::csv::{inspect, InspectOptions};
//!
//! let data = "Cognome;Nome;Codice Fiscale;Data di nascita\r\n\
//!             Rossi;Maria;RSSMRA80A41H501Y;01/01/1980\r\n\
//!             Bianchi;Ugo;BNCGUO10E12F205X;31/02/2010\r\n\
//!             Solo;due\r\n";
//! let report = inspect(data.as_bytes(), &InspectOptions::new()).unwrap();
//! assert_eq!((report.rows, report.bad_rows), (2, 1));
//! let cf = report.codici_fiscali.as_ref().unwrap();
//! assert_eq!((cf.valid, cf.invalid_total()), (1, 1));
//! assert_eq!(cf.invalid["cf_check_char"], 1);
//! let dates = report.birth_dates.as_ref().unwrap();
//! assert_eq!(dates.invalid["csv_date_nonexistent"], 1);
//! let text = report.to_string();
//! assert!(text.contains("Codice Fiscale"));
//! assert!(!text.contains("RSSMRA80A41H501Y"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use anist_core::anpr::IdAnpr;
use anist_core::cf::AnyCodiceFiscale;
use anist_core::csvio::{
    parse_date_it, CsvError, DelimiterSource, Encoding, Field, Mapping, ReadOutcome, ReaderBuilder,
    Row,
};
use anist_core::ErrorCode;

/// How to inspect.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InspectOptions {
    /// Check the codici fiscali of this column (a header name, an alias, or
    /// a field name such as `codice_fiscale`) instead of the column mapped to
    /// [`Field::CodiceFiscale`].
    pub column: Option<String>,
    /// How many bad rows to list by line (default 10).
    pub listed_bad_rows: usize,
}

impl Default for InspectOptions {
    fn default() -> Self {
        Self {
            column: None,
            listed_bad_rows: 10,
        }
    }
}

impl InspectOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the codici fiscali of `column`.
    pub fn column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }
}

/// Validation counts for one column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValueCounts {
    /// 0-based column index.
    pub column: usize,
    /// The column's header name (masked if it looks like data).
    pub header: String,
    /// Good rows that have the column, empty or not.
    pub seen: u64,
    /// Valid values.
    pub valid: u64,
    /// Empty (or blank) cells, not counted as invalid.
    pub empty: u64,
    /// Invalid values by error code.
    pub invalid: BTreeMap<&'static str, u64>,
}

impl ValueCounts {
    fn new(column: usize, header: &str) -> Self {
        Self {
            column,
            header: header.to_owned(),
            ..Self::default()
        }
    }

    /// Invalid values, all codes.
    pub fn invalid_total(&self) -> u64 {
        self.invalid.values().sum()
    }

    fn record(&mut self, result: Result<(), &'static str>) {
        match result {
            Ok(()) => self.valid += 1,
            Err(code) => *self.invalid.entry(code).or_insert(0) += 1,
        }
    }
}

/// What [`inspect`] found. `Display` renders it as text for the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InspectReport {
    /// The encoding the file was read in.
    pub encoding: Encoding,
    /// Whether it starts with a UTF-8 byte-order mark.
    pub bom: bool,
    /// The delimiter; `None` for a single-column file.
    pub delimiter: Option<u8>,
    /// Where the delimiter came from.
    pub delimiter_source: DelimiterSource,
    /// Fields of a UTF-8 file read as Windows-1252, and the first one's line.
    pub fallback_fields: (u64, Option<u64>),
    /// 1-based line of the header.
    pub header_line: u64,
    /// Header names (masked when they look like data) and their mapping.
    pub columns: Vec<(String, Mapping)>,
    /// Whether a header cell looks like a codice fiscale or a date: the file
    /// probably has no header line.
    pub header_looks_like_data: bool,
    /// Good rows.
    pub rows: u64,
    /// Error rows.
    pub bad_rows: u64,
    /// Error rows by code.
    pub bad_by_code: BTreeMap<&'static str, u64>,
    /// The first error rows: (line, code).
    pub first_bad_rows: Vec<(u64, &'static str)>,
    /// Blank lines skipped.
    pub blank_lines: u64,
    /// Rows of empty unquoted fields skipped.
    pub empty_rows: u64,
    /// Physical lines in the file.
    pub lines: u64,
    /// Codici fiscali of the mapped (or chosen) column, if there is one.
    pub codici_fiscali: Option<ValueCounts>,
    /// ID ANPR of the column mapped to [`Field::IdAnpr`] (or chosen with
    /// [`InspectOptions::column`] when its header names the ID ANPR),
    /// checked as ID ANPR, never as codici fiscali.
    pub ids_anpr: Option<ValueCounts>,
    /// Birth dates of the column mapped to [`Field::BirthDate`], if any.
    pub birth_dates: Option<ValueCounts>,
}

/// A header cell shown as is, unless it looks like personal data.
fn mask(name: &str) -> (String, bool) {
    if AnyCodiceFiscale::parse(name).is_ok() {
        ("[a codice fiscale]".to_owned(), true)
    } else if parse_date_it(name).is_ok() {
        ("[a date]".to_owned(), true)
    } else {
        (name.to_owned(), false)
    }
}

/// Inspects a CSV file (any [`Read`]; streamed, constant memory).
///
/// Errors: what stops the reader
/// ([`CsvReader::new`](anist_core::csvio::CsvReader::new): `csv_io`, `csv_empty`,
/// `csv_encoding`, …) and `csv_missing_column` when
/// [`InspectOptions::column`] names no column.
pub fn inspect<R: Read>(input: R, opts: &InspectOptions) -> Result<InspectReport, CsvError> {
    let mut reader = ReaderBuilder::new().from_reader(input)?;
    let headers = reader.headers();
    let mut looks_like_data = false;
    let columns: Vec<(String, Mapping)> = headers
        .iter()
        .map(|(name, m)| {
            let (shown, masked) = mask(name);
            looks_like_data |= masked;
            (shown, m)
        })
        .collect();
    let is_id = |i: usize| {
        matches!(
            headers.mapping(i),
            Some(Mapping::Field(Field::IdAnpr) | Mapping::Duplicate(Field::IdAnpr))
        )
    };
    let (cf_col, id_col) = match &opts.column {
        Some(c) => {
            let i = headers
                .find(c, reader.aliases())
                .ok_or_else(|| CsvError::MissingColumn { wanted: c.clone() })?;
            if is_id(i) {
                (None, Some(i))
            } else {
                (Some(i), None)
            }
        }
        None => (
            headers.index(Field::CodiceFiscale),
            headers.index(Field::IdAnpr),
        ),
    };
    let date_col = headers.index(Field::BirthDate);
    let counts = |i: usize| ValueCounts::new(i, columns.get(i).map_or("", |c| c.0.as_str()));
    let mut cf = cf_col.map(counts);
    let mut ids = id_col.map(counts);
    let mut dates = date_col.map(counts);
    let mut bad_by_code = BTreeMap::new();
    let mut first_bad_rows = Vec::new();
    let mut row = Row::new();
    loop {
        match reader.read_row(&mut row)? {
            ReadOutcome::End => break,
            ReadOutcome::Bad(e) => {
                *bad_by_code.entry(e.code()).or_insert(0u64) += 1;
                if first_bad_rows.len() < opts.listed_bad_rows {
                    first_bad_rows.push((e.line().unwrap_or(0), e.code()));
                }
            }
            ReadOutcome::Row => {
                if let Some(c) = cf.as_mut() {
                    check(c, &row, |v| {
                        AnyCodiceFiscale::parse(v).map(drop).map_err(|e| e.code())
                    });
                }
                if let Some(c) = ids.as_mut() {
                    check(c, &row, |v| {
                        IdAnpr::parse(v).map(drop).map_err(|e| e.code())
                    });
                }
                if let Some(d) = dates.as_mut() {
                    check(d, &row, |v| {
                        parse_date_it(v).map(drop).map_err(|e| e.code())
                    });
                }
            }
        }
    }
    let dialect = *reader.dialect();
    let stats = *reader.stats();
    Ok(InspectReport {
        encoding: dialect.encoding(),
        bom: dialect.bom(),
        delimiter: dialect.delimiter(),
        delimiter_source: dialect.delimiter_source(),
        fallback_fields: (stats.fallback_fields, stats.first_fallback_line),
        header_line: reader.header_line(),
        columns,
        header_looks_like_data: looks_like_data,
        rows: stats.rows,
        bad_rows: stats.bad_rows,
        bad_by_code,
        first_bad_rows,
        blank_lines: stats.blank_lines,
        empty_rows: stats.empty_rows,
        lines: reader.lines_read(),
        codici_fiscali: cf,
        ids_anpr: ids,
        birth_dates: dates,
    })
}

fn check(counts: &mut ValueCounts, row: &Row, validate: impl Fn(&str) -> Result<(), &'static str>) {
    let Some(value) = row.get(counts.column) else {
        return;
    };
    counts.seen += 1;
    if value.trim().is_empty() {
        counts.empty += 1;
    } else {
        counts.record(validate(value));
    }
}

/// How a delimiter is shown: the character and, for the usual ones, its name.
fn delimiter_name(d: u8) -> (String, Option<&'static str>) {
    match d {
        b';' => ("';'".to_owned(), Some("semicolon")),
        b',' => ("','".to_owned(), Some("comma")),
        b'\t' => ("tab".to_owned(), None),
        b'|' => ("'|'".to_owned(), Some("pipe")),
        d if d.is_ascii_graphic() => (format!("'{}'", char::from(d)), None),
        d => (format!("byte 0x{d:02X}"), None),
    }
}

/// A header name safe to print on one line.
fn printable(name: &str) -> String {
    if name.chars().any(char::is_control) {
        name.escape_debug().to_string()
    } else {
        name.to_owned()
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn write_counts(f: &mut fmt::Formatter<'_>, title: &str, c: &ValueCounts) -> fmt::Result {
    writeln!(
        f,
        "{title} (column {} \"{}\"): {} valid, {} invalid, {} empty",
        c.column + 1,
        printable(&c.header),
        c.valid,
        c.invalid_total(),
        c.empty
    )?;
    for (code, n) in &c.invalid {
        writeln!(f, "  {code:<24} {n}")?;
    }
    Ok(())
}

impl fmt::Display for InspectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "encoding:   {}", self.encoding)?;
        if self.bom {
            write!(f, " (with BOM)")?;
        }
        if let (n @ 1.., first) = self.fallback_fields {
            write!(
                f,
                "; {} not valid UTF-8 read as Windows-1252 (first at line {})",
                plural(n, "field", "fields"),
                first.unwrap_or(0)
            )?;
        }
        writeln!(f)?;
        match self.delimiter {
            None => writeln!(f, "delimiter:  none (one column per line)")?,
            Some(d) => {
                let how = match self.delimiter_source {
                    DelimiterSource::Given => "given",
                    DelimiterSource::SepLine => "from the sep= line",
                    _ => "sniffed on the header line",
                };
                match delimiter_name(d) {
                    (shown, Some(name)) => writeln!(f, "delimiter:  {shown} ({name}, {how})")?,
                    (shown, None) => writeln!(f, "delimiter:  {shown} ({how})")?,
                }
            }
        }
        writeln!(
            f,
            "header:     line {}, {}",
            self.header_line,
            plural(self.columns.len() as u64, "column", "columns")
        )?;
        let width = self
            .columns
            .iter()
            .map(|(n, _)| printable(n).chars().count())
            .max()
            .unwrap_or(0)
            .min(40);
        for (i, (name, mapping)) in self.columns.iter().enumerate() {
            let target = match mapping {
                Mapping::Field(field) => field.as_str().to_owned(),
                Mapping::Duplicate(field) => format!("unmapped (duplicate of {field})"),
                Mapping::Unmapped => "unmapped".to_owned(),
            };
            let name = printable(name);
            let pad = width.saturating_sub(name.chars().count());
            writeln!(f, "  {:>3}  {name}{:pad$}  -> {target}", i + 1, "")?;
        }
        if self.header_looks_like_data {
            writeln!(
                f,
                "warning:    the header line holds a codice fiscale or a date: \
                 the file may have no header (its first row was taken as one)"
            )?;
        }
        writeln!(
            f,
            "rows:       {} read, {} bad; {}",
            self.rows,
            self.bad_rows,
            plural(self.lines, "line", "lines")
        )?;
        let mut skipped = Vec::new();
        if self.blank_lines > 0 {
            skipped.push(plural(self.blank_lines, "blank line", "blank lines"));
        }
        if self.empty_rows > 0 {
            skipped.push(plural(self.empty_rows, "row", "rows") + " of empty fields only");
        }
        if !skipped.is_empty() {
            writeln!(f, "skipped:    {}", skipped.join(", "))?;
        }
        if self.bad_rows > 0 {
            for (code, n) in &self.bad_by_code {
                writeln!(f, "  {code:<24} {n}")?;
            }
            let lines: Vec<String> = self
                .first_bad_rows
                .iter()
                .map(|(line, code)| format!("{line} ({code})"))
                .collect();
            let more = if self.bad_rows > lines.len() as u64 {
                ", …"
            } else {
                ""
            };
            writeln!(f, "  bad rows at lines: {}{more}", lines.join(", "))?;
        }
        match (&self.codici_fiscali, &self.ids_anpr) {
            (Some(c), _) => write_counts(f, "codici fiscali", c)?,
            (None, Some(_)) => {}
            (None, None) => writeln!(
                f,
                "codici fiscali: no column mapped to codice_fiscale (choose one with --column)"
            )?,
        }
        if let Some(c) = &self.ids_anpr {
            write_counts(f, "ID ANPR", c)?;
        }
        if let Some(d) = &self.birth_dates {
            write_counts(f, "birth dates", d)?;
        }
        Ok(())
    }
}
