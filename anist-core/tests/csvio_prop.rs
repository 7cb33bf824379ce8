//! Property tests of the CSV reader and writer.
// Test helpers outside `#[test]` functions unwrap too (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used)]

use std::io::Read;

use anist_core::csvio::{
    fold_header, is_1252_encodable, parse_date_it, Aliases, CsvReader, CsvWriter, DateStyle,
    Encoding, Field, InputEncoding, ReadOutcome, ReaderBuilder, Row, WriterOptions,
    BUILTIN_ALIASES, SNIFFED_DELIMITERS,
};
use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;

mod common;
use common::Trickle;

type Item = Result<(u64, Vec<String>), (u64, &'static str)>;

fn read_all(reader: ReaderBuilder, data: impl Read) -> Result<(Vec<String>, Vec<Item>), String> {
    use anist_core::ErrorCode;
    let mut r = reader.from_reader(data).map_err(|e| e.code().to_owned())?;
    let header = r.headers().names().to_vec();
    let mut out = Vec::new();
    let mut row = Row::new();
    let mut last_line = 0;
    loop {
        match r.read_row(&mut row).unwrap() {
            ReadOutcome::Row => {
                assert!(row.line() > last_line, "lines go forward");
                last_line = row.line();
                out.push(Ok((row.line(), row.to_vec())));
            }
            ReadOutcome::Bad(e) => {
                let line = e.line().unwrap();
                assert!(line > last_line, "lines go forward");
                last_line = line;
                out.push(Err((line, e.code())));
            }
            ReadOutcome::End => return Ok((header, out)),
        }
    }
}

/// Characters that stress CSV: delimiters, quotes, line breaks, blanks,
/// accented letters, `€`, and anything else now and then.
fn tricky_char() -> BoxedStrategy<char> {
    prop_oneof![
        4 => prop::sample::select(vec![
            ';', ',', '\t', '|', '"', '\r', '\n', ' ', 'a', 'Z', '0', 'à', 'è', 'ì', 'ò', 'ù',
            'É', '€', 'ß', 'ñ', '\u{a0}', '\u{feff}', '\'', '=', 's', 'e', 'p',
        ]),
        1 => any::<char>(),
    ]
    .boxed()
}

fn field(chars: impl Strategy<Value = char>) -> impl Strategy<Value = String> {
    prop::collection::vec(chars, 0..8).prop_map(|v| v.into_iter().collect())
}

/// A table: header and rows, all of the same width.
fn table(chars: BoxedStrategy<char>) -> impl Strategy<Value = Vec<Vec<String>>> {
    (1usize..5).prop_flat_map(move |width| {
        prop::collection::vec(prop::collection::vec(field(chars.clone()), width), 1..8)
    })
}

fn write_table(opts: WriterOptions, t: &[Vec<String>]) -> Vec<u8> {
    let mut w = CsvWriter::new(Vec::new(), opts);
    for row in t {
        w.write_row(row).unwrap();
    }
    w.into_inner().unwrap()
}

fn check_round_trip(
    opts: WriterOptions,
    t: &[Vec<String>],
    encoding: InputEncoding,
    chunk: usize,
) -> Result<(), TestCaseError> {
    let bytes = write_table(opts, t);
    let (header, rows) = read_all(
        ReaderBuilder::new().encoding(encoding),
        Trickle {
            data: &bytes,
            n: chunk,
        },
    )
    .map_err(TestCaseError::fail)?;
    let want_header: Vec<String> = t[0].iter().map(|s| s.trim().to_owned()).collect();
    prop_assert_eq!(header, want_header);
    let got: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| r.map(|(_, f)| f))
        .collect::<Result<_, _>>()
        .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    prop_assert_eq!(&got[..], &t[1..]);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn round_trip_excel_utf8(t in table(tricky_char()), chunk in prop_oneof![1usize..8, 8usize..70_000]) {
        check_round_trip(WriterOptions::excel(), &t, InputEncoding::Auto, chunk)?;
    }

    #[test]
    fn round_trip_machine_utf8(t in table(tricky_char()), chunk in prop_oneof![1usize..8, 8usize..70_000]) {
        check_round_trip(WriterOptions::machine(), &t, InputEncoding::Auto, chunk)?;
    }

    /// Every sniffed delimiter, in both profiles: the writer's header
    /// quoting lets the reader find it.
    #[test]
    fn round_trip_any_delimiter(
        t in table(tricky_char()),
        d in prop::sample::select(SNIFFED_DELIMITERS.to_vec()),
        excel in any::<bool>(),
    ) {
        let opts = if excel { WriterOptions::excel() } else { WriterOptions::machine() };
        check_round_trip(opts.delimiter(d), &t, InputEncoding::Auto, 1 << 16)?;
    }

    /// Windows-1252 is read with the encoding imposed: a 1252 text can happen
    /// to be valid UTF-8 (`Ã©`), which detection would read as UTF-8 (the
    /// documented per-file decision).
    #[test]
    fn round_trip_excel_1252(t in table(tricky_char().prop_map(|c| if is_1252_encodable(c) { c } else { '¿' }).boxed()), chunk in prop_oneof![1usize..8, 8usize..70_000]) {
        let opts = WriterOptions::excel().encoding(Encoding::Windows1252);
        check_round_trip(opts, &t, InputEncoding::Windows1252, chunk)?;
    }

    #[test]
    fn round_trip_machine_1252(t in table(tricky_char().prop_map(|c| if is_1252_encodable(c) { c } else { '¿' }).boxed()), chunk in prop_oneof![1usize..8, 8usize..70_000]) {
        let opts = WriterOptions::machine().encoding(Encoding::Windows1252);
        check_round_trip(opts, &t, InputEncoding::Windows1252, chunk)?;
    }

    /// Italian text in 1252 (letters, accented letters) is detected as 1252:
    /// an accented letter is a UTF-8 lead byte never followed by a
    /// continuation byte. (`è€€`, E8 80 80, is valid UTF-8 and would be read
    /// as such; see the module documentation.)
    #[test]
    fn italian_1252_is_detected(t in table(prop::sample::select(vec!['a', 'b', ' ', ';', 'à', 'è', 'é', 'ì', 'ò', 'ù', 'À', 'È', '\'', '"', '\n']).boxed()), chunk in 1usize..64) {
        let has_8bit = t.iter().flatten().any(|f| !f.is_ascii());
        let opts = WriterOptions::excel().encoding(Encoding::Windows1252);
        let bytes = write_table(opts, &t);
        let r = CsvReader::new(&bytes[..]).unwrap();
        let want = if has_8bit { Encoding::Windows1252 } else { Encoding::Utf8 };
        prop_assert_eq!(r.dialect().encoding(), want);
        check_round_trip(opts, &t, InputEncoding::Auto, chunk)?;
    }

    /// The csv crate reads what this writer writes, and this reader reads
    /// what the csv crate writes.
    #[test]
    fn agrees_with_the_csv_crate(t in table(tricky_char())) {
        let mine = write_table(WriterOptions::machine(), &t);
        let mut theirs = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&mine[..]);
        let back: Vec<Vec<String>> = theirs.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
        prop_assert_eq!(&back[..], &t[..]);

        // Rows of empty fields only are skipped by design; the csv crate
        // does not quote them.
        let t: Vec<Vec<String>> = t.into_iter().filter(|r| r.iter().any(|f| !f.is_empty())).collect();
        // A leading U+FEFF, unquoted, is a byte-order mark.
        prop_assume!(!t.is_empty() && !t[0][0].starts_with('\u{feff}'));
        let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(Vec::new());
        for r in &t {
            w.write_record(r).unwrap();
        }
        let theirs = w.into_inner().unwrap();
        let (header, rows) = read_all(ReaderBuilder::new().delimiter(b';'), &theirs[..]).unwrap();
        let want: Vec<String> = t[0].iter().map(|s| s.trim().to_owned()).collect();
        prop_assert_eq!(header, want);
        let rows: Vec<Vec<String>> = rows.into_iter().map(|r| r.unwrap().1).collect();
        prop_assert_eq!(&rows[..], &t[1..]);
    }

    /// Arbitrary bytes: no panic, lines go forward, and the result does not
    /// depend on how the input is chunked.
    #[test]
    fn any_bytes_read_the_same_in_any_chunks(
        data in prop::collection::vec(prop_oneof![
            3 => prop::sample::select(b";,\t|\"\r\n ax\xe0\x80\xc3\xa8".to_vec()),
            1 => any::<u8>(),
        ], 0..300),
        chunk in 1usize..17,
        strict in any::<bool>(),
        limit_small in any::<bool>(),
    ) {
        let builder = || {
            let b = ReaderBuilder::new().strict(strict);
            if limit_small { b.max_record_bytes(1024) } else { b }
        };
        let whole = read_all(builder(), &data[..]);
        let trickled = read_all(builder(), Trickle { data: &data, n: chunk });
        prop_assert_eq!(whole, trickled);
    }

    #[test]
    fn header_folding_is_idempotent(s in "\\PC*") {
        let once = fold_header(&s);
        prop_assert_eq!(fold_header(&once), once.clone());
        // The folded form is lower-case words separated by single spaces.
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
        // Folding keeps what a lookup reads, except a bracketed note, which a
        // lookup drops before folding (`A.S. [aaaa/aaaa]` is the school year)
        // and folding turns into words: that case is the next property's.
        if !s.contains(['(', ')', '[', ']']) {
            let aliases = Aliases::new();
            prop_assert_eq!(aliases.lookup(&once), aliases.lookup(&s));
        }
    }

    /// A bracketed note after a header does not change what it maps to, even
    /// when the note folds to words of its own (CI found `As[a`).
    #[test]
    fn a_bracketed_note_is_ignored_by_lookup(
        s in "\\PC*",
        note in "[^()\\[\\]]*",
        round in any::<bool>(),
    ) {
        prop_assume!(!s.contains(['(', ')', '[', ']']));
        let aliases = Aliases::new();
        let noted = if round { format!("{s} ({note})") } else { format!("{s}[{note}]") };
        if !fold_header(&s).is_empty() {
            prop_assert_eq!(aliases.lookup(&noted), aliases.lookup(&s));
        }
    }

    #[test]
    fn header_folding_is_idempotent_on_tricky_text(v in prop::collection::vec(any::<char>(), 0..20)) {
        let s: String = v.into_iter().collect();
        let once = fold_header(&s);
        prop_assert_eq!(fold_header(&once), once);
    }

    /// Every built-in alias, however it is spelt, maps to its field.
    #[test]
    fn alias_spellings(i in 0usize..1000, style in 0u8..5) {
        let all: Vec<_> = BUILTIN_ALIASES.iter().flat_map(|(f, names)| names.iter().map(move |n| (*f, *n))).collect();
        let (field, alias) = all[i % all.len()];
        let spelt = match style {
            0 => alias.to_uppercase().replace(' ', "_"),
            1 => format!("  {}  ", alias.replace(' ', "  ")),
            2 => alias.replace(' ', "."),
            3 => alias.split(' ').map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
            }).collect::<String>(),
            _ => alias.replace(' ', "-").replace('a', "à"),
        };
        prop_assert_eq!(Aliases::new().lookup(&spelt), Some(field), "{:?}", spelt);
    }

    #[test]
    fn dates_round_trip(days in 0i32..3_000_000) {
        let d = NaiveDate::from_num_days_from_ce_opt(365_000 + days).unwrap();
        prop_assume!(d.year() <= 9999);
        prop_assert_eq!(parse_date_it(&DateStyle::Italian.format(d)), Ok(d));
        prop_assert_eq!(parse_date_it(&DateStyle::Iso.format(d)), Ok(d));
        let short = format!("{}/{}/{:04}", d.day(), d.month(), d.year());
        prop_assert_eq!(parse_date_it(&short), Ok(d));
    }

    #[test]
    fn date_parsing_never_panics(s in "\\PC{0,24}") {
        let _ = parse_date_it(&s);
    }
}

/// The case CI found: a header whose bracketed note folds to a word of its
/// own still maps through the part before the bracket.
#[test]
fn a_bracketed_note_after_an_alias() {
    let aliases = Aliases::new();
    assert_eq!(aliases.lookup("As[a"), Some(Field::SchoolYear));
    assert_eq!(aliases.lookup("A.S. [aaaa/aaaa]"), Some(Field::SchoolYear));
    assert_eq!(fold_header("As[a"), "as a");
    assert_eq!(aliases.lookup("as a"), None);
}
