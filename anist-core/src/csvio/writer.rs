//! The CSV writer: Italian-Excel and machine profiles.

use std::fmt;
use std::io::Write;

use chrono::NaiveDate;

use super::date::format_date_it;
use super::reader::SNIFFED_DELIMITERS;
use super::text::{ascii_substitute, encode_1252_into};
use super::{CsvError, Encoding};

const BOM: &[u8] = b"\xEF\xBB\xBF";
const FLUSH_AT: usize = 64 * 1024;

/// Record terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `\r\n` (Excel, RFC 4180).
    Crlf,
    /// `\n`.
    Lf,
}

impl LineEnding {
    fn bytes(self) -> &'static [u8] {
        match self {
            LineEnding::Crlf => b"\r\n",
            LineEnding::Lf => b"\n",
        }
    }
}

/// How [`CsvWriter::date`] writes dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    /// `dd/mm/yyyy`.
    Italian,
    /// `yyyy-mm-dd` (ISO 8601).
    Iso,
}

impl DateStyle {
    /// `date` in this style.
    pub fn format(self, date: NaiveDate) -> String {
        match self {
            DateStyle::Italian => format_date_it(date),
            DateStyle::Iso => date.format("%Y-%m-%d").to_string(),
        }
    }
}

/// What to do with a character the output encoding cannot hold (only
/// Windows-1252 output has such characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmappable {
    /// Fail with `csv_unencodable`; the row is not written (the default).
    Error,
    /// Write its base letter if it has one (`č` → `c`, `ł` → `l`), else `?`.
    Substitute,
}

/// The format a [`CsvWriter`] writes.
///
/// Two profiles: [`excel`](Self::excel) for people (opens correctly in
/// Italian Excel with a double click) and [`machine`](Self::machine) for
/// programs. Each setting can be changed after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterOptions {
    delimiter: u8,
    encoding: Encoding,
    bom: bool,
    line_ending: LineEnding,
    date_style: DateStyle,
    unmappable: Unmappable,
}

impl WriterOptions {
    /// Italian Excel: `;`, UTF-8 with a byte-order mark (without it Excel
    /// reads UTF-8 as Windows-1252), CRLF, dates `dd/mm/yyyy`.
    pub fn excel() -> Self {
        Self {
            delimiter: b';',
            encoding: Encoding::Utf8,
            bom: true,
            line_ending: LineEnding::Crlf,
            date_style: DateStyle::Italian,
            unmappable: Unmappable::Error,
        }
    }

    /// Programs: `,`, UTF-8 without BOM, LF, ISO dates (`yyyy-mm-dd`).
    ///
    /// LF rather than RFC 4180's CRLF: every CSV reader accepts both, and
    /// line-oriented tools (`grep`, `diff`, `wc -l`, `git`) work on LF files
    /// without leaving a `\r` on the last field.
    pub fn machine() -> Self {
        Self {
            delimiter: b',',
            encoding: Encoding::Utf8,
            bom: false,
            line_ending: LineEnding::Lf,
            date_style: DateStyle::Iso,
            unmappable: Unmappable::Error,
        }
    }

    /// The field delimiter. A quote or a line break cannot be one and is
    /// ignored.
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        if !matches!(delimiter, b'"' | b'\r' | b'\n') {
            self.delimiter = delimiter;
        }
        self
    }

    /// The output encoding. Windows-1252 (for legacy programs, and what
    /// Excel writes for "CSV (delimitato dal separatore di elenco)") is
    /// written without byte-order mark.
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Whether to start UTF-8 output with a byte-order mark.
    pub fn bom(mut self, bom: bool) -> Self {
        self.bom = bom;
        self
    }

    /// The record terminator.
    pub fn line_ending(mut self, line_ending: LineEnding) -> Self {
        self.line_ending = line_ending;
        self
    }

    /// How dates are written.
    pub fn date_style(mut self, date_style: DateStyle) -> Self {
        self.date_style = date_style;
        self
    }

    /// What to do with characters Windows-1252 cannot hold.
    pub fn unmappable(mut self, unmappable: Unmappable) -> Self {
        self.unmappable = unmappable;
        self
    }

    /// The field delimiter.
    pub fn get_delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The output encoding.
    pub fn get_encoding(&self) -> Encoding {
        self.encoding
    }

    /// The date style.
    pub fn get_date_style(&self) -> DateStyle {
        self.date_style
    }
}

/// Writes CSV records, quoting a field when it holds the delimiter, a quote,
/// a line break, or starts or ends with a blank (which other programs would
/// trim); an empty row is written as `""` so that readers do not skip it.
///
/// The first row is taken as the header and quoted more: a header field
/// holding any of `;` `,` tab `|`, or starting with `sep=`, is quoted, so
/// that a reader sniffing the delimiter on the header line finds the right
/// one.
///
/// Output is buffered; call [`into_inner`](Self::into_inner) or
/// [`flush`](Self::flush) at the end.
///
/// ```
/// use anist_core::csvio::{CsvWriter, WriterOptions};
/// use chrono::NaiveDate;
///
/// let mut w = CsvWriter::new(Vec::new(), WriterOptions::excel());
/// w.write_row(["Cognome", "Nome", "Data di nascita"]).unwrap();
/// w.field("D'Ambrosi").unwrap();
/// w.field("Nicolò; detto \"Nico\"").unwrap();
/// w.date(NaiveDate::from_ymd_opt(2008, 4, 5).unwrap()).unwrap();
/// w.end_row().unwrap();
/// let bytes = w.into_inner().unwrap();
/// assert_eq!(
///     String::from_utf8(bytes).unwrap(),
///     "\u{feff}Cognome;Nome;Data di nascita\r\nD'Ambrosi;\"Nicolò; detto \"\"Nico\"\"\";05/04/2008\r\n"
/// );
/// ```
pub struct CsvWriter<W: Write> {
    out: W,
    opts: WriterOptions,
    buf: Vec<u8>,
    /// Rows finished.
    rows: u64,
    /// Fields written in the current row.
    fields: usize,
    /// Where the current row starts in `buf`.
    row_start: usize,
    /// Whether the current row is only delimiters so far.
    row_blank: bool,
    escaped: String,
}

impl<W: Write> fmt::Debug for CsvWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvWriter")
            .field("opts", &self.opts)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<W: Write> CsvWriter<W> {
    /// A writer to `out`.
    pub fn new(out: W, opts: WriterOptions) -> Self {
        let mut buf = Vec::with_capacity(FLUSH_AT + 4096);
        if opts.bom && opts.encoding == Encoding::Utf8 {
            buf.extend_from_slice(BOM);
        }
        let row_start = buf.len();
        Self {
            out,
            opts,
            buf,
            rows: 0,
            fields: 0,
            row_start,
            row_blank: true,
            escaped: String::new(),
        }
    }

    /// The options.
    pub fn options(&self) -> &WriterOptions {
        &self.opts
    }

    /// Rows finished so far (the header included).
    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    fn needs_quotes(&self, value: &str) -> bool {
        let d = self.opts.delimiter;
        let header = self.rows == 0;
        value.bytes().any(|b| {
            b == d
                || b == b'"'
                || b == b'\r'
                || b == b'\n'
                || (header && SNIFFED_DELIMITERS.contains(&b))
        }) || value.starts_with(char::is_whitespace)
            || value.ends_with(char::is_whitespace)
            || value.starts_with('\u{feff}')
            || (header
                && self.fields == 0
                && value
                    .get(..4)
                    .is_some_and(|p| p.eq_ignore_ascii_case("sep=")))
    }

    /// Appends one field to the current row.
    pub fn field(&mut self, value: &str) -> Result<(), CsvError> {
        let quoted = self.needs_quotes(value);
        if self.fields > 0 {
            self.buf.push(self.opts.delimiter);
        }
        self.fields += 1;
        let text = if quoted {
            self.row_blank = false;
            self.escaped.clear();
            self.escaped.push('"');
            for c in value.chars() {
                if c == '"' {
                    self.escaped.push('"');
                }
                self.escaped.push(c);
            }
            self.escaped.push('"');
            self.escaped.as_str()
        } else {
            if !value.is_empty() {
                self.row_blank = false;
            }
            value
        };
        let result = match self.opts.encoding {
            Encoding::Utf8 => {
                self.buf.extend_from_slice(text.as_bytes());
                Ok(())
            }
            Encoding::Windows1252 => {
                let substitute = match self.opts.unmappable {
                    Unmappable::Error => None,
                    Unmappable::Substitute => Some(ascii_substitute as fn(char) -> u8),
                };
                encode_1252_into(text, &mut self.buf, substitute)
            }
        };
        result.map_err(|ch| {
            let column = self.fields;
            self.discard_row();
            CsvError::Unencodable {
                row: self.rows + 1,
                column,
                ch,
                encoding: self.opts.encoding,
            }
        })
    }

    /// Appends a date in the profile's style to the current row.
    pub fn date(&mut self, date: NaiveDate) -> Result<(), CsvError> {
        let text = self.opts.date_style.format(date);
        self.field(&text)
    }

    /// Ends the current row (a row with no field call is written as one empty
    /// field, `""`).
    pub fn end_row(&mut self) -> Result<(), CsvError> {
        if self.row_blank {
            // Only delimiters (or nothing): readers would skip the line.
            self.buf.splice(self.row_start..self.row_start, *b"\"\"");
        }
        self.buf.extend_from_slice(self.opts.line_ending.bytes());
        self.rows += 1;
        self.fields = 0;
        self.row_blank = true;
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.row_start = self.buf.len();
        Ok(())
    }

    /// Drops the fields of the current row written so far.
    pub fn discard_row(&mut self) {
        self.buf.truncate(self.row_start);
        self.fields = 0;
        self.row_blank = true;
    }

    /// Writes a whole row.
    pub fn write_row<I, S>(&mut self, fields: I) -> Result<(), CsvError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for f in fields {
            self.field(f.as_ref())?;
        }
        self.end_row()
    }

    /// Writes out the finished rows and flushes the destination. A row not
    /// ended stays pending.
    pub fn flush(&mut self) -> Result<(), CsvError> {
        self.out.write_all(&self.buf[..self.row_start])?;
        self.buf.drain(..self.row_start);
        self.row_start = 0;
        self.out.flush()?;
        Ok(())
    }

    /// Flushes and returns the destination. A row not ended is dropped.
    pub fn into_inner(mut self) -> Result<W, CsvError> {
        self.discard_row();
        self.flush()?;
        Ok(self.out)
    }
}
