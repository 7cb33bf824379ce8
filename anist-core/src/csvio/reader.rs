//! The tolerant streaming reader.

use std::fmt;
use std::io::{self, Read};

use super::header::{Aliases, Headers};
use super::text::decode_1252_into;
use super::{CsvError, Encoding, QuoteProblem};

/// How much of the input is looked at to decide the encoding (and, at most,
/// where the header line is searched for the delimiter).
pub const SNIFF_BYTES: usize = 64 * 1024;

/// The default limit on the length of one record in bytes.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1 << 20;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The delimiters the reader sniffs, in order of preference on a tie.
pub const SNIFFED_DELIMITERS: [u8; 4] = [b';', b',', b'\t', b'|'];

/// Which encoding to read the input in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputEncoding {
    /// Detect it (the default): see the [module documentation](super).
    #[default]
    Auto,
    /// UTF-8 (a BOM is still stripped); a field that is not valid UTF-8 is a
    /// `csv_encoding` error row.
    Utf8,
    /// Windows-1252, every field, whatever it looks like.
    Windows1252,
}

/// Where the delimiter came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DelimiterSource {
    /// Set by the caller.
    Given,
    /// From an Excel `sep=` first line.
    SepLine,
    /// The most frequent of `;` `,` tab `|` outside quotes on the header line.
    Sniffed,
    /// None of them is on the header line: the file has one column and each
    /// line is one field.
    SingleColumn,
}

/// The format of the input as the reader found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    encoding: Encoding,
    bom: bool,
    delimiter: Option<u8>,
    delimiter_source: DelimiterSource,
}

impl Dialect {
    /// The encoding the file is read in. With automatic detection a UTF-8
    /// file may still hold fields that are read as Windows-1252: see
    /// [`ReaderStats::fallback_fields`].
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Whether the input started with a UTF-8 byte-order mark.
    pub fn bom(&self) -> bool {
        self.bom
    }

    /// The field delimiter; `None` for a single-column file.
    pub fn delimiter(&self) -> Option<u8> {
        self.delimiter
    }

    /// Where the delimiter came from.
    pub fn delimiter_source(&self) -> DelimiterSource {
        self.delimiter_source
    }
}

/// Counters kept while reading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReaderStats {
    /// Good rows returned (the header not included).
    pub rows: u64,
    /// Error rows returned.
    pub bad_rows: u64,
    /// Blank lines skipped.
    pub blank_lines: u64,
    /// Rows of empty, unquoted fields only (`;;;;`, as spreadsheets leave
    /// after formatted but empty cells) skipped.
    pub empty_rows: u64,
    /// Fields of a file detected as UTF-8 that were not valid UTF-8 and
    /// were read as Windows-1252.
    pub fallback_fields: u64,
    /// The line of the first of those fields.
    pub first_fallback_line: Option<u64>,
}

/// One record, decoded. Reused from row to row by [`CsvReader::read_row`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Row {
    text: String,
    ends: Vec<usize>,
    line: u64,
}

/// Rows hold personal data: `Debug` shows the line and the field count only.
impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Row")
            .field("line", &self.line)
            .field("fields", &self.ends.len())
            .finish_non_exhaustive()
    }
}

impl Row {
    /// An empty row, to pass to [`CsvReader::read_row`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The 1-based physical line where the record starts.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the row has no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `i` (0-based), exactly as in the file once unquoted (blanks
    /// included), or `None` past the end of a short row.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = match i {
            0 => 0,
            _ => *self.ends.get(i - 1)?,
        };
        self.text.get(start..end)
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or(""))
    }

    /// The fields as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

/// What [`CsvReader::read_row`] found.
#[derive(Debug)]
#[must_use]
pub enum ReadOutcome {
    /// A good row, now in the `Row` passed in.
    Row,
    /// A bad record, reported with its line and code
    /// ([`CsvError::is_row_error`]); reading can go on. The `Row` passed in
    /// is left in an unspecified state.
    Bad(CsvError),
    /// The end of the input.
    End,
}

/// Options of a [`CsvReader`].
#[derive(Debug, Clone)]
pub struct ReaderBuilder {
    delimiter: Option<u8>,
    encoding: InputEncoding,
    strict: bool,
    max_record_bytes: usize,
    aliases: Aliases,
}

impl Default for ReaderBuilder {
    fn default() -> Self {
        Self {
            delimiter: None,
            encoding: InputEncoding::Auto,
            strict: true,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            aliases: Aliases::new(),
        }
    }
}

impl ReaderBuilder {
    /// The defaults: delimiter and encoding detected, strict field count,
    /// records up to 1 MiB, built-in aliases.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses this delimiter instead of sniffing it. A quote, a line break, an
    /// ASCII letter or digit cannot be one and is ignored.
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = Some(delimiter);
        self
    }

    /// The input encoding (default [`InputEncoding::Auto`]).
    pub fn encoding(mut self, encoding: InputEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Strict (the default): a record whose number of fields differs from the
    /// header's is a `csv_field_count` error row. Not strict: it is returned
    /// as it is (missing fields read as `None`). Either way, empty fields
    /// beyond the header's count are dropped silently (a trailing delimiter).
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// The longest record accepted, in bytes (default 1 MiB, at least 1 KiB):
    /// the memory bound of the reader and of an unclosed quote.
    pub fn max_record_bytes(mut self, limit: usize) -> Self {
        self.max_record_bytes = limit.max(1024);
        self
    }

    /// The header aliases (default: the built-in table).
    pub fn aliases(mut self, aliases: Aliases) -> Self {
        self.aliases = aliases;
        self
    }

    /// Opens a reader: sniffs the input and reads the header line.
    ///
    /// Errors: `csv_io`, `csv_empty` (no header line), `csv_encoding`
    /// (UTF-16), `csv_quote` / `csv_record_too_long` in the header.
    pub fn from_reader<R: Read>(self, input: R) -> Result<CsvReader<R>, CsvError> {
        CsvReader::open(input, self)
    }
}

/// What parsing found at the start of the buffered data.
enum Parse {
    /// A record of `raw`/`ends`, `consumed` bytes long, with `breaks` line
    /// breaks (inside quotes and the terminator).
    Record {
        consumed: usize,
        breaks: u64,
        multiline: bool,
        blank: bool,
    },
    /// An empty line of `consumed` bytes.
    Blank { consumed: usize },
    /// The record goes on past the buffered data; `open_quote` is the field
    /// (1-based) of a quoted field that is open and already spans a line
    /// break, if any.
    NeedMore { open_quote: Option<usize> },
    /// Unreadable quoting in field `column` (1-based).
    Quote {
        column: usize,
        problem: QuoteProblem,
    },
    /// No data left and end of input.
    End,
}

/// The record splitter. Quoting follows RFC 4180 as Excel writes it: a field
/// is quoted when it starts with `"`; inside, `""` is a quote and line breaks
/// are data; a quote elsewhere in an unquoted field is an ordinary character.
/// Records end at `\n`, `\r\n` or a lone `\r`.
struct Parser {
    delimiter: Option<u8>,
    special: [bool; 256],
}

impl Parser {
    fn new(delimiter: Option<u8>) -> Self {
        let mut special = [false; 256];
        special[usize::from(b'\n')] = true;
        special[usize::from(b'\r')] = true;
        if let Some(d) = delimiter {
            special[usize::from(d)] = true;
        }
        Self { delimiter, special }
    }

    /// Line breaks in a quoted span: `\n`, and `\r` not followed by `\n`.
    fn breaks_in(span: &[u8]) -> u64 {
        let mut n = 0u64;
        let mut iter = span.iter().peekable();
        while let Some(&b) = iter.next() {
            match b {
                b'\n' => n += 1,
                b'\r' if iter.peek() != Some(&&b'\n') => n += 1,
                _ => {}
            }
        }
        n
    }

    fn parse(&self, data: &[u8], eof: bool, raw: &mut Vec<u8>, ends: &mut Vec<usize>) -> Parse {
        raw.clear();
        ends.clear();
        let len = data.len();
        match data.first() {
            None if eof => return Parse::End,
            None => return Parse::NeedMore { open_quote: None },
            Some(b'\n') => return Parse::Blank { consumed: 1 },
            Some(b'\r') => {
                return match data.get(1) {
                    Some(b'\n') => Parse::Blank { consumed: 2 },
                    Some(_) => Parse::Blank { consumed: 1 },
                    None if eof => Parse::Blank { consumed: 1 },
                    None => Parse::NeedMore { open_quote: None },
                }
            }
            Some(_) => {}
        }
        let mut i = 0usize;
        let mut inner_breaks = 0u64;
        let mut any_quoted = false;
        let more = |spans_lines: bool, column: usize| Parse::NeedMore {
            open_quote: spans_lines.then_some(column),
        };
        // The record ends at data[i], a line break: how many bytes it takes.
        let terminator = |i: usize| -> Option<usize> {
            match data[i] {
                b'\n' => Some(1),
                _ => match data.get(i + 1) {
                    Some(b'\n') => Some(2),
                    Some(_) => Some(1),
                    None if eof => Some(1),
                    None => None,
                },
            }
        };
        loop {
            if data.get(i) == Some(&b'"') {
                any_quoted = true;
                i += 1;
                loop {
                    let Some(q) = data[i..].iter().position(|&b| b == b'"') else {
                        if eof {
                            return Parse::Quote {
                                column: ends.len() + 1,
                                problem: QuoteProblem::Unclosed,
                            };
                        }
                        let spans = inner_breaks > 0 || Self::breaks_in(&data[i..]) > 0;
                        return more(spans, ends.len() + 1);
                    };
                    let span = &data[i..i + q];
                    inner_breaks += Self::breaks_in(span);
                    raw.extend_from_slice(span);
                    i += q + 1;
                    let Some(&b) = data.get(i) else {
                        if !eof {
                            return more(inner_breaks > 0, ends.len() + 1);
                        }
                        ends.push(raw.len());
                        return Parse::Record {
                            consumed: i,
                            breaks: inner_breaks,
                            multiline: inner_breaks > 0,
                            blank: false,
                        };
                    };
                    if b == b'"' {
                        raw.push(b'"');
                        i += 1;
                    } else if Some(b) == self.delimiter {
                        ends.push(raw.len());
                        i += 1;
                        break;
                    } else if b == b'\n' || b == b'\r' {
                        ends.push(raw.len());
                        let Some(t) = terminator(i) else {
                            return more(false, 0);
                        };
                        return Parse::Record {
                            consumed: i + t,
                            breaks: inner_breaks + 1,
                            multiline: inner_breaks > 0,
                            blank: false,
                        };
                    } else {
                        return Parse::Quote {
                            column: ends.len() + 1,
                            problem: QuoteProblem::TextAfterClosingQuote,
                        };
                    }
                }
            } else {
                let rest = &data[i..];
                match rest.iter().position(|&b| self.special[usize::from(b)]) {
                    None => {
                        if !eof {
                            return more(false, 0);
                        }
                        raw.extend_from_slice(rest);
                        ends.push(raw.len());
                        return Parse::Record {
                            consumed: len,
                            breaks: inner_breaks,
                            multiline: inner_breaks > 0,
                            blank: !any_quoted && raw.is_empty(),
                        };
                    }
                    Some(k) => {
                        raw.extend_from_slice(&rest[..k]);
                        ends.push(raw.len());
                        i += k;
                        if Some(data[i]) == self.delimiter {
                            i += 1;
                            continue;
                        }
                        let Some(t) = terminator(i) else {
                            return more(false, 0);
                        };
                        return Parse::Record {
                            consumed: i + t,
                            breaks: inner_breaks + 1,
                            multiline: inner_breaks > 0,
                            blank: !any_quoted && raw.is_empty(),
                        };
                    }
                }
            }
        }
    }
}

/// Whether `d` can separate fields: not a quote, a line break or a letter
/// or digit.
fn usable_delimiter(d: u8) -> bool {
    !matches!(d, b'"' | b'\r' | b'\n') && !d.is_ascii_alphanumeric()
}

/// Where the physical line starting at `data[0]` ends.
enum LineEnd {
    /// The next line starts at this offset.
    At(usize),
    /// Not in `data`; `cr` if `data` ends with a `\r` whose `\n` may follow.
    Beyond { cr: bool },
}

fn line_end(data: &[u8], eof: bool) -> LineEnd {
    match data.iter().position(|&b| b == b'\n' || b == b'\r') {
        Some(i) if data[i] == b'\n' => LineEnd::At(i + 1),
        Some(i) => match data.get(i + 1) {
            Some(b'\n') => LineEnd::At(i + 2),
            Some(_) => LineEnd::At(i + 1),
            None if eof => LineEnd::At(i + 1),
            None => LineEnd::Beyond { cr: true },
        },
        None => LineEnd::Beyond { cr: false },
    }
}

/// Discarding input up to the end of a physical line (after an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    No,
    ToLineEnd,
    /// A `\r` was the last byte discarded: drop a `\n` right after it.
    AfterCr,
}

/// How the header record looks if `d` is the delimiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    /// Delimiters outside quoted fields.
    count: usize,
    /// Every quote is where the parser expects one: opening a field,
    /// doubled inside it, or closing it before a delimiter or line break.
    clean: bool,
    /// A quoted field runs over a line break.
    multiline: bool,
}

/// Parses the header record starting at `data[0]` (up to its end or the end
/// of `data`) with `d` as the delimiter and the parser's quoting rules.
fn header_shape(data: &[u8], d: u8) -> Shape {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum St {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut shape = Shape {
        count: 0,
        clean: true,
        multiline: false,
    };
    let mut st = St::FieldStart;
    for &b in data {
        st = match (st, b) {
            (St::Quoted, b'"') => St::QuoteInQuoted,
            (St::Quoted, b'\n' | b'\r') => {
                shape.multiline = true;
                St::Quoted
            }
            (St::Quoted, _) => St::Quoted,
            (St::QuoteInQuoted, b'"') => St::Quoted,
            (St::FieldStart, b'"') => St::Quoted,
            (_, b'\n' | b'\r') => return shape,
            (_, b) if b == d => {
                shape.count += 1;
                St::FieldStart
            }
            (St::Unquoted, b'"') | (St::QuoteInQuoted, _) => {
                shape.clean = false;
                St::Unquoted
            }
            _ => St::Unquoted,
        };
    }
    if st == St::Quoted {
        shape.clean = false;
    }
    shape
}

/// Guesses the delimiter of the header record starting at `data[0]`: among
/// [`SNIFFED_DELIMITERS`] found outside quoted fields, the one under which
/// the header's quoting is consistent, then the one whose header fits on
/// one line, then the most frequent, then the first in the list. `None` if
/// none appears.
///
/// The quoting test matters when fields are quoted because they hold
/// another candidate: in `a,"x;y"` the `;` is inside a quoted field if `,`
/// is the delimiter, but would make `a,"x` a field with a stray quote if `;`
/// were.
///
/// ```
/// use anist_core::csvio::sniff_delimiter;
/// assert_eq!(sniff_delimiter(b"\"Cognome, Nome\";CF\r\n"), Some(b';'));
/// assert_eq!(sniff_delimiter(b"a,\"x;y\"\n"), Some(b','));
/// assert_eq!(sniff_delimiter(b"Cognome, Nome;CF\n"), Some(b';'));
/// assert_eq!(sniff_delimiter(b"Codice Fiscale\n1;2;3\n"), None);
/// ```
pub fn sniff_delimiter(data: &[u8]) -> Option<u8> {
    SNIFFED_DELIMITERS
        .iter()
        .enumerate()
        .map(|(i, &d)| (d, i, header_shape(data, d)))
        .filter(|(_, _, s)| s.count > 0)
        .max_by_key(|&(_, i, s)| (s.clean, !s.multiline, s.count, usize::MAX - i))
        .map(|(d, _, _)| d)
}

/// A tolerant, streaming CSV reader for the files Italian administrations
/// exchange. See the [module documentation](super) for the rules.
///
/// Memory is one input buffer of 64 KiB, growing only for a longer record
/// up to the record limit ([`ReaderBuilder::max_record_bytes`]) plus 64 KiB,
/// and one reused [`Row`], whatever the size of the input.
pub struct CsvReader<R> {
    input: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Physical line of `buf[start]`.
    line: u64,
    skip: Skip,
    /// The last byte consumed before `buf[0]`, once `buf` was compacted.
    last_consumed: Option<u8>,
    parser: Parser,
    mode: InputEncoding,
    dialect: Dialect,
    strict: bool,
    max_record: usize,
    raw: Vec<u8>,
    raw_ends: Vec<usize>,
    headers: Headers,
    header_line: u64,
    aliases: Aliases,
    stats: ReaderStats,
}

impl<R> fmt::Debug for CsvReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvReader")
            .field("dialect", &self.dialect)
            .field("line", &self.line)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<R: Read> CsvReader<R> {
    /// A reader with the default options ([`ReaderBuilder::new`]).
    ///
    /// ```
    /// use anist_core::csvio::{CsvReader, Field, ReadOutcome, Row};
    /// let data = "\u{feff}Cognome;Nome;Codice Fiscale\r\nRossi;Maria;RSSMRA80A41H501Y\r\n";
    /// let mut reader = CsvReader::new(data.as_bytes()).unwrap();
    /// let cf = reader.headers().index(Field::CodiceFiscale).unwrap();
    /// let mut row = Row::new();
    /// assert!(matches!(reader.read_row(&mut row).unwrap(), ReadOutcome::Row));
    /// assert_eq!((row.line(), row.get(cf)), (2, Some("RSSMRA80A41H501Y")));
    /// assert!(matches!(reader.read_row(&mut row).unwrap(), ReadOutcome::End));
    /// ```
    pub fn new(input: R) -> Result<Self, CsvError> {
        ReaderBuilder::new().from_reader(input)
    }

    fn open(input: R, opts: ReaderBuilder) -> Result<Self, CsvError> {
        let mut r = Self {
            input,
            buf: vec![0; 8 * 1024],
            start: 0,
            end: 0,
            eof: false,
            line: 1,
            skip: Skip::No,
            last_consumed: None,
            parser: Parser::new(None),
            mode: opts.encoding,
            dialect: Dialect {
                encoding: Encoding::Utf8,
                bom: false,
                delimiter: None,
                delimiter_source: DelimiterSource::SingleColumn,
            },
            strict: opts.strict,
            max_record: opts.max_record_bytes,
            raw: Vec::with_capacity(256),
            raw_ends: Vec::with_capacity(32),
            headers: Headers::default(),
            header_line: 0,
            aliases: opts.aliases,
            stats: ReaderStats::default(),
        };
        // Fill the sniffing window (the buffer grows to it).
        while !r.eof && r.end < SNIFF_BYTES {
            r.read_more()?;
        }
        let head = &r.buf[..r.end];
        if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
            return Err(CsvError::Utf16);
        }
        if head.starts_with(BOM) {
            r.start = BOM.len();
            r.dialect.bom = true;
        }
        r.dialect.encoding = match r.mode {
            InputEncoding::Utf8 => Encoding::Utf8,
            InputEncoding::Windows1252 => Encoding::Windows1252,
            InputEncoding::Auto if r.dialect.bom => Encoding::Utf8,
            InputEncoding::Auto => match std::str::from_utf8(&r.buf[r.start..r.end]) {
                Ok(_) => Encoding::Utf8,
                // Cut in the middle of a character by the window's end.
                Err(e) if e.error_len().is_none() && !r.eof => Encoding::Utf8,
                Err(_) => Encoding::Windows1252,
            },
        };
        // Excel's `sep=;` line.
        let mut delimiter = opts.delimiter;
        let mut source = DelimiterSource::Given;
        if let [b's' | b'S', b'e' | b'E', b'p' | b'P', b'=', d, rest @ ..] = &r.buf[r.start..r.end]
        {
            let eol = match rest {
                [b'\r', b'\n', ..] => Some(2),
                [b'\n' | b'\r', ..] => Some(1),
                [] if r.eof => Some(0),
                _ => None,
            };
            if let (Some(n), true) = (eol, usable_delimiter(*d)) {
                if delimiter.is_none() {
                    delimiter = Some(*d);
                    source = DelimiterSource::SepLine;
                }
                r.start += 5 + n;
                r.line += 1;
            }
        }
        delimiter = delimiter.filter(|&d| usable_delimiter(d));
        if delimiter.is_none() {
            // On the first line that is not blank.
            let data = &r.buf[r.start..r.end];
            let first = data
                .iter()
                .position(|b| !matches!(b, b'\r' | b'\n'))
                .unwrap_or(data.len());
            delimiter = sniff_delimiter(&data[first..]);
            source = match delimiter {
                Some(_) => DelimiterSource::Sniffed,
                None => DelimiterSource::SingleColumn,
            };
        }
        r.dialect.delimiter = delimiter;
        r.dialect.delimiter_source = source;
        r.parser = Parser::new(delimiter);
        // The header.
        r.header_line = r.line;
        let names = loop {
            let (end, eof) = r.view();
            let data = &r.buf[r.start..end];
            match r.parser.parse(data, eof, &mut r.raw, &mut r.raw_ends) {
                Parse::End => return Err(CsvError::Empty),
                Parse::Blank { consumed } => {
                    r.start += consumed;
                    r.line += 1;
                    r.header_line = r.line;
                    r.stats.blank_lines += 1;
                }
                Parse::NeedMore { open_quote } => {
                    if r.truncated() {
                        return Err(r.too_long(r.line, open_quote));
                    }
                    r.read_more()?;
                }
                Parse::Quote { column, problem } => {
                    return Err(CsvError::Quote {
                        line: r.line,
                        column,
                        problem,
                    })
                }
                Parse::Record {
                    consumed, breaks, ..
                } => {
                    r.start += consumed;
                    r.line += breaks;
                    let mut row = Row::new();
                    row.line = r.header_line;
                    // Header fields never fail: fall back to 1252 whatever the mode.
                    let mode = match r.mode {
                        InputEncoding::Utf8 => InputEncoding::Auto,
                        m => m,
                    };
                    let _ = r.decode(&mut row, mode);
                    break row.to_vec();
                }
            }
        };
        r.headers = Headers::new(names, &r.aliases);
        Ok(r)
    }

    /// The header line.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The 1-based physical line of the header.
    pub fn header_line(&self) -> u64 {
        self.header_line
    }

    /// The aliases the headers were mapped with.
    pub fn aliases(&self) -> &Aliases {
        &self.aliases
    }

    /// The format found.
    pub fn dialect(&self) -> &Dialect {
        &self.dialect
    }

    /// Counters so far.
    pub fn stats(&self) -> &ReaderStats {
        &self.stats
    }

    /// The physical line the next record starts at or after; at the end of
    /// the input, one more than the number of lines.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Physical lines consumed so far, the header's included (a last line
    /// without line break counts). At the end of the input, the number of
    /// lines in the file.
    pub fn lines_read(&self) -> u64 {
        let last = match self.start {
            0 => self.last_consumed,
            s => Some(self.buf[s - 1]),
        };
        match last {
            Some(b'\n' | b'\r') | None => self.line - 1,
            Some(_) => self.line,
        }
    }

    /// The data the parser may look at: at most one byte more than the
    /// record limit, so that what is an error does not depend on how much
    /// happens to be buffered; and whether that is the end of the input.
    fn view(&self) -> (usize, bool) {
        let end = self.end.min(self.start + self.max_record + 1);
        (end, self.eof && end == self.end)
    }

    /// Whether the view leaves buffered bytes out: a record the parser could
    /// not finish in it is too long.
    fn truncated(&self) -> bool {
        self.end > self.start + self.max_record + 1
    }

    /// The error for a record that does not end within the limit: a quote
    /// left open over line breaks (`csv_quote`), else `csv_record_too_long`.
    fn too_long(&self, line: u64, open_quote: Option<usize>) -> CsvError {
        match open_quote {
            Some(column) => CsvError::Quote {
                line,
                column,
                problem: QuoteProblem::Unclosed,
            },
            None => CsvError::RecordTooLong {
                line,
                limit: self.max_record,
            },
        }
    }

    /// Reads more input after `buf[end]`, first moving the pending bytes to
    /// the front and growing the buffer if it is full.
    fn read_more(&mut self) -> Result<(), CsvError> {
        if self.start > 0 {
            self.last_consumed = Some(self.buf[self.start - 1]);
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // Only a record within the limit asks for more (see `truncated`),
            // so the buffer never needs more than the limit plus a window.
            let cap = self.max_record + 1 + SNIFF_BYTES;
            let grown = (self.buf.len() * 2).min(cap).max(self.buf.len() + 1);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(CsvError::Io(e)),
            }
        }
    }

    /// After a bad record starting at `self.start` on line `line`: go on at
    /// the next physical line.
    fn resync(&mut self, line: u64) {
        self.line = line + 1;
        match line_end(&self.buf[self.start..self.end], self.eof) {
            LineEnd::At(n) => self.start += n,
            LineEnd::Beyond { cr } => {
                self.start = self.end;
                self.skip = if cr { Skip::AfterCr } else { Skip::ToLineEnd };
            }
        }
    }

    /// Discards input for [`Skip`]; returns whether it is done.
    fn skip_input(&mut self) -> Result<(), CsvError> {
        while self.skip != Skip::No {
            if self.start == self.end {
                if self.eof {
                    self.skip = Skip::No;
                    return Ok(());
                }
                self.read_more()?;
                continue;
            }
            let data = &self.buf[self.start..self.end];
            if self.skip == Skip::AfterCr {
                if data[0] == b'\n' {
                    self.start += 1;
                }
                self.skip = Skip::No;
                return Ok(());
            }
            match line_end(data, self.eof) {
                LineEnd::At(n) => {
                    self.start += n;
                    self.skip = Skip::No;
                }
                LineEnd::Beyond { cr } => {
                    self.start = self.end;
                    if cr {
                        self.skip = Skip::AfterCr;
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads the next record into `row`.
    ///
    /// Returns [`ReadOutcome::Row`], [`ReadOutcome::Bad`] for a record that
    /// cannot be read (the reader goes on with the next one), or
    /// [`ReadOutcome::End`]. `Err` is fatal: only `csv_io`.
    pub fn read_row(&mut self, row: &mut Row) -> Result<ReadOutcome, CsvError> {
        loop {
            if self.skip != Skip::No {
                self.skip_input()?;
            }
            let (end, eof) = self.view();
            let data = &self.buf[self.start..end];
            match self
                .parser
                .parse(data, eof, &mut self.raw, &mut self.raw_ends)
            {
                Parse::End => return Ok(ReadOutcome::End),
                Parse::Blank { consumed } => {
                    self.start += consumed;
                    self.line += 1;
                    self.stats.blank_lines += 1;
                }
                Parse::NeedMore { open_quote } => {
                    if self.truncated() {
                        let line = self.line;
                        let e = self.too_long(line, open_quote);
                        self.resync(line);
                        return Ok(self.bad(e));
                    }
                    self.read_more()?;
                }
                Parse::Quote { column, problem } => {
                    let line = self.line;
                    self.resync(line);
                    return Ok(self.bad(CsvError::Quote {
                        line,
                        column,
                        problem,
                    }));
                }
                Parse::Record {
                    consumed,
                    breaks,
                    multiline,
                    blank,
                } => {
                    let line = self.line;
                    if blank {
                        self.start += consumed;
                        self.line += breaks;
                        self.stats.empty_rows += 1;
                        continue;
                    }
                    let expected = self.headers.len();
                    // A trailing delimiter: drop empty fields past the header's.
                    while self.raw_ends.len() > expected {
                        let n = self.raw_ends.len();
                        let prev = if n >= 2 { self.raw_ends[n - 2] } else { 0 };
                        if self.raw_ends[n - 1] != prev {
                            break;
                        }
                        self.raw_ends.pop();
                    }
                    let found = self.raw_ends.len();
                    if found != expected && multiline {
                        // Read again from the next physical line.
                        self.resync(line);
                        return Ok(self.bad(CsvError::Quote {
                            line,
                            column: found.min(expected) + 1,
                            problem: QuoteProblem::Runaway,
                        }));
                    }
                    self.start += consumed;
                    self.line += breaks;
                    if found != expected && self.strict {
                        return Ok(self.bad(CsvError::FieldCount {
                            line,
                            expected,
                            found,
                        }));
                    }
                    row.line = line;
                    if let Err(e) = self.decode(row, self.mode) {
                        return Ok(self.bad(e));
                    }
                    self.stats.rows += 1;
                    return Ok(ReadOutcome::Row);
                }
            }
        }
    }

    fn bad(&mut self, e: CsvError) -> ReadOutcome {
        self.stats.bad_rows += 1;
        ReadOutcome::Bad(e)
    }

    /// Decodes `raw`/`raw_ends` into `row` (whose `line` is set).
    fn decode(&mut self, row: &mut Row, mode: InputEncoding) -> Result<(), CsvError> {
        row.text.clear();
        row.ends.clear();
        let raw = &self.raw;
        let ends = &self.raw_ends;
        let whole = match self.dialect.encoding {
            Encoding::Windows1252 if raw.is_ascii() => std::str::from_utf8(raw).ok(),
            Encoding::Windows1252 => None,
            Encoding::Utf8 => std::str::from_utf8(raw)
                .ok()
                .filter(|s| ends.iter().all(|&e| s.is_char_boundary(e))),
        };
        if let Some(s) = whole {
            row.text.push_str(s);
            row.ends.extend_from_slice(ends);
            return Ok(());
        }
        let mut start = 0;
        for (i, &end) in ends.iter().enumerate() {
            let field = &raw[start..end];
            start = end;
            match (self.dialect.encoding, std::str::from_utf8(field)) {
                (Encoding::Utf8, Ok(s)) => row.text.push_str(s),
                (Encoding::Windows1252, _) => decode_1252_into(field, &mut row.text),
                (Encoding::Utf8, Err(_)) if mode == InputEncoding::Utf8 => {
                    return Err(CsvError::Encoding {
                        line: row.line,
                        column: i + 1,
                        encoding: Encoding::Utf8,
                    })
                }
                (Encoding::Utf8, Err(_)) => {
                    decode_1252_into(field, &mut row.text);
                    self.stats.fallback_fields += 1;
                    if self.stats.first_fallback_line.is_none() {
                        self.stats.first_fallback_line = Some(row.line);
                    }
                }
            }
            row.ends.push(row.text.len());
        }
        Ok(())
    }

    /// The remaining records as an iterator of owned rows: `Err` items are
    /// error rows (reading goes on) or a fatal error (the last item).
    pub fn rows(&mut self) -> Rows<'_, R> {
        Rows {
            reader: self,
            done: false,
        }
    }
}

/// Iterator over the records of a [`CsvReader`]; see [`CsvReader::rows`].
#[derive(Debug)]
pub struct Rows<'a, R> {
    reader: &'a mut CsvReader<R>,
    done: bool,
}

impl<R: Read> Iterator for Rows<'_, R> {
    type Item = Result<Row, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut row = Row::new();
        match self.reader.read_row(&mut row) {
            Ok(ReadOutcome::Row) => Some(Ok(row)),
            Ok(ReadOutcome::Bad(e)) => Some(Err(e)),
            Ok(ReadOutcome::End) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
