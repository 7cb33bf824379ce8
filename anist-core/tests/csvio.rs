//! Tolerant CSV reader and writer. All data is synthetic.
// Test helpers outside `#[test]` functions unwrap too (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used)]

use std::io::{self, Read};

use anist_core::csvio::{
    fold_header, parse_date_it, Aliases, CsvError, CsvReader, CsvWriter, DelimiterSource, Encoding,
    Field, InputEncoding, LineEnding, Mapping, QuoteProblem, ReadOutcome, ReaderBuilder, Row,
    Unmappable, WriterOptions, SNIFF_BYTES,
};
use anist_core::ErrorCode;
use chrono::NaiveDate;

/// Every record of `data`: `Ok((line, fields))` or `Err((line, code))`.
type Item = Result<(u64, Vec<String>), (u64, &'static str)>;

fn read_all_with(mut reader: CsvReader<impl Read>) -> Vec<Item> {
    let mut out = Vec::new();
    let mut row = Row::new();
    loop {
        match reader.read_row(&mut row).unwrap() {
            ReadOutcome::Row => out.push(Ok((row.line(), row.to_vec()))),
            ReadOutcome::Bad(e) => {
                assert!(e.is_row_error(), "{e}");
                out.push(Err((e.line().unwrap(), e.code())));
            }
            ReadOutcome::End => return out,
        }
    }
}

fn read_all(data: &[u8]) -> Vec<Item> {
    read_all_with(CsvReader::new(data).unwrap())
}

fn ok(line: u64, fields: &[&str]) -> Item {
    Ok((line, fields.iter().map(|s| s.to_string()).collect()))
}

fn bad(line: u64, code: &'static str) -> Item {
    Err((line, code))
}

mod common;
use common::Trickle;

// ---------------------------------------------------------------- BOM, encodings

#[test]
fn utf8_bom_is_stripped() {
    let data = "\u{feff}Codice Fiscale;Nome\r\nRSSMRA80A41H501Y;Maria\r\n";
    let r = CsvReader::new(data.as_bytes()).unwrap();
    assert!(r.dialect().bom());
    assert_eq!(r.dialect().encoding(), Encoding::Utf8);
    assert_eq!(r.headers().names()[0], "Codice Fiscale");
    assert_eq!(r.headers().index(Field::CodiceFiscale), Some(0));
    assert_eq!(
        read_all(data.as_bytes()),
        [ok(2, &["RSSMRA80A41H501Y", "Maria"])]
    );
}

#[test]
fn windows_1252_bytes_are_decoded() {
    // à = 0xE0, € = 0x80, ò = 0xF2, È = 0xC8.
    let data = b"Comune;Importo\r\nForl\xe0;\x80 12,50\r\nCant\xf2;\xc8 vero\r\n";
    let r = CsvReader::new(&data[..]).unwrap();
    assert_eq!(r.dialect().encoding(), Encoding::Windows1252);
    assert!(!r.dialect().bom());
    assert_eq!(
        read_all(data),
        [ok(2, &["Forlà", "€ 12,50"]), ok(3, &["Cantò", "È vero"])]
    );
}

#[test]
fn utf8_without_bom_is_detected() {
    let data = "Comune;Importo\nForlì;€ 3\n".as_bytes();
    let r = CsvReader::new(data).unwrap();
    assert_eq!(r.dialect().encoding(), Encoding::Utf8);
    assert_eq!(read_all(data), [ok(2, &["Forlì", "€ 3"])]);
}

#[test]
fn a_1252_byte_after_the_sniffing_window_is_still_read() {
    let mut data = b"Cognome;Nome\n".to_vec();
    let mut lines = 1u64;
    while data.len() < SNIFF_BYTES + 1000 {
        data.extend_from_slice(b"Rossi;Maria\n");
        lines += 1;
    }
    data.extend_from_slice(b"Nard\xe8lli;Nicol\xf2\n");
    data.extend_from_slice("Bianchi;Zoë\n".as_bytes());
    let mut r = CsvReader::new(&data[..]).unwrap();
    assert_eq!(r.dialect().encoding(), Encoding::Utf8);
    let rows: Vec<Item> = r
        .rows()
        .map(|x| {
            x.map(|row| (row.line(), row.to_vec()))
                .map_err(|e| (0, e.code()))
        })
        .collect();
    assert_eq!(rows.len() as u64, lines + 1);
    assert_eq!(rows[rows.len() - 2], ok(lines + 1, &["Nardèlli", "Nicolò"]));
    // A valid UTF-8 field after the fallback is still read as UTF-8.
    assert_eq!(rows[rows.len() - 1], ok(lines + 2, &["Bianchi", "Zoë"]));
    assert_eq!(r.stats().fallback_fields, 2);
    assert_eq!(r.stats().first_fallback_line, Some(lines + 1));
    assert_eq!(r.stats().bad_rows, 0);
}

#[test]
fn imposed_encodings() {
    let data = b"Nome\nNicol\xf2\nZo\xc3\xab\n";
    // Imposed UTF-8: the 1252 field is an error row, the rest is read.
    let r = ReaderBuilder::new()
        .encoding(InputEncoding::Utf8)
        .from_reader(&data[..])
        .unwrap();
    assert_eq!(read_all_with(r), [bad(2, "csv_encoding"), ok(3, &["Zoë"])]);
    // Imposed 1252: every field is 1252, even when it looks like UTF-8.
    let r = ReaderBuilder::new()
        .encoding(InputEncoding::Windows1252)
        .from_reader(&data[..])
        .unwrap();
    assert_eq!(read_all_with(r), [ok(2, &["Nicolò"]), ok(3, &["ZoÃ«"])]);
    // Automatic: the file is 1252 as a whole (first 64 KiB not UTF-8).
    assert_eq!(read_all(data), [ok(2, &["Nicolò"]), ok(3, &["ZoÃ«"])]);
}

#[test]
fn utf16_is_refused() {
    let data = b"\xff\xfeC\x00F\x00\r\x00\n\x00";
    let e = CsvReader::new(&data[..]).unwrap_err();
    assert_eq!(e.code(), "csv_encoding");
    assert!(matches!(e, CsvError::Utf16));
}

#[test]
fn empty_input_has_no_header() {
    for data in [&b""[..], b"\xEF\xBB\xBF", b"\r\n\n\r\n", b"sep=;\r\n"] {
        let e = CsvReader::new(data).unwrap_err();
        assert_eq!(e.code(), "csv_empty", "{data:?}");
    }
}

// ---------------------------------------------------------------- delimiters

#[test]
fn each_delimiter_is_sniffed() {
    for d in [";", ",", "\t", "|"] {
        let data = format!("Cognome{d}Nome{d}CF\r\nRossi{d}Maria{d}RSSMRA80A41H501Y\r\n");
        let r = CsvReader::new(data.as_bytes()).unwrap();
        assert_eq!(r.dialect().delimiter(), Some(d.as_bytes()[0]), "{d:?}");
        assert_eq!(r.dialect().delimiter_source(), DelimiterSource::Sniffed);
        assert_eq!(r.headers().len(), 3);
        assert_eq!(
            read_all(data.as_bytes()),
            [ok(2, &["Rossi", "Maria", "RSSMRA80A41H501Y"])]
        );
    }
}

#[test]
fn quoted_delimiters_in_the_header_do_not_count() {
    let data = "\"Cognome, Nome, Titolo\";Codice Fiscale\nRossi, Maria;RSSMRA80A41H501Y\n";
    let r = CsvReader::new(data.as_bytes()).unwrap();
    assert_eq!(r.dialect().delimiter(), Some(b';'));
    assert_eq!(
        r.headers().names(),
        ["Cognome, Nome, Titolo", "Codice Fiscale"]
    );
    assert_eq!(
        read_all(data.as_bytes()),
        [ok(2, &["Rossi, Maria", "RSSMRA80A41H501Y"])]
    );
    let data = "\"a;b;c\",\"d|e\",f\n1,2,3\n";
    let r = CsvReader::new(data.as_bytes()).unwrap();
    assert_eq!(r.dialect().delimiter(), Some(b','));
    // Ties go to ; then , then tab then |.
    let r = CsvReader::new(&b"a,b;c\n"[..]).unwrap();
    assert_eq!(r.dialect().delimiter(), Some(b';'));
}

#[test]
fn excel_sep_line_sets_the_delimiter() {
    let data = b"sep=|\r\nCognome|Nome,Secondo\r\nRossi|Maria,Ada\r\n";
    let r = CsvReader::new(&data[..]).unwrap();
    assert_eq!(r.dialect().delimiter(), Some(b'|'));
    assert_eq!(r.dialect().delimiter_source(), DelimiterSource::SepLine);
    assert_eq!(r.header_line(), 2);
    assert_eq!(read_all(data), [ok(3, &["Rossi", "Maria,Ada"])]);
}

#[test]
fn a_header_without_delimiter_means_one_column() {
    let data = b"Codice Fiscale\nRSSMRA80A41H501Y\nnot;a,code\n\n\"quoted\"\n";
    let r = CsvReader::new(&data[..]).unwrap();
    assert_eq!(r.dialect().delimiter(), None);
    assert_eq!(
        r.dialect().delimiter_source(),
        DelimiterSource::SingleColumn
    );
    assert_eq!(
        read_all(data),
        [
            ok(2, &["RSSMRA80A41H501Y"]),
            ok(3, &["not;a,code"]),
            ok(5, &["quoted"])
        ]
    );
}

#[test]
fn an_imposed_delimiter_wins() {
    let data = b"a;b,c\n1;2,3\n";
    let r = ReaderBuilder::new()
        .delimiter(b',')
        .from_reader(&data[..])
        .unwrap();
    assert_eq!(r.dialect().delimiter_source(), DelimiterSource::Given);
    assert_eq!(read_all_with(r), [ok(2, &["1;2", "3"])]);
}

// ---------------------------------------------------------------- headers

#[test]
fn header_aliases_map_to_fields() {
    let cases: &[(&str, Field)] = &[
        ("Codice Fiscale", Field::CodiceFiscale),
        ("CODICE_FISCALE", Field::CodiceFiscale),
        ("codfisc", Field::CodiceFiscale),
        ("Cod. Fisc.", Field::CodiceFiscale),
        ("cf", Field::CodiceFiscale),
        ("C.F.", Field::CodiceFiscale),
        ("codice fiscale alunno", Field::CodiceFiscale),
        ("CodiceFiscale", Field::CodiceFiscale),
        ("codFiscale", Field::CodiceFiscale),
        ("  Codice   Fiscale ", Field::CodiceFiscale),
        ("Cognome", Field::Surname),
        ("SURNAME", Field::Surname),
        ("nome", Field::GivenName),
        ("Name", Field::GivenName),
        ("Nominativo", Field::FullName),
        ("Cognome e nome", Field::FullName),
        ("Data di nascita", Field::BirthDate),
        ("data_nascita", Field::BirthDate),
        ("DT_NASCITA", Field::BirthDate),
        ("dataNascita", Field::BirthDate),
        ("Data di nascita (gg/mm/aaaa)", Field::BirthDate),
        ("Sesso", Field::Sex),
        ("Comune di nascita", Field::BirthPlace),
        ("Luogo di nascita", Field::BirthPlace),
        ("Provincia di nascita", Field::BirthProvince),
        ("Cittadinanza", Field::Citizenship),
        ("Nazionalità", Field::Citizenship),
        ("Comune di residenza", Field::ResidencePlace),
        ("ID ANPR", Field::IdAnpr),
        ("idANPR", Field::IdAnpr),
        ("Codice meccanografico", Field::CodiceMeccanografico),
        ("cod_mecc", Field::CodiceMeccanografico),
        ("Anno scolastico", Field::SchoolYear),
        ("A.S.", Field::SchoolYear),
        ("Anno di corso", Field::YearOfCourse),
    ];
    let aliases = Aliases::new();
    for (header, field) in cases {
        assert_eq!(aliases.lookup(header), Some(*field), "{header:?}");
    }
    for header in [
        "Comune",
        "Note",
        "",
        "  ",
        "Codice",
        "Fiscale",
        "Importo ISEE",
    ] {
        assert_eq!(aliases.lookup(header), None, "{header:?}");
    }
}

#[test]
fn folding() {
    assert_eq!(fold_header("  DATA_DI-NASCITA. "), "data di nascita");
    assert_eq!(fold_header("Città"), "citta");
    assert_eq!(fold_header("Citta\u{300}"), "citta");
    assert_eq!(fold_header("NAZIONALITÀ"), "nazionalita");
    assert_eq!(fold_header("codiceFiscaleAlunno"), "codice fiscale alunno");
    assert_eq!(fold_header("CFAlunno"), "cf alunno");
    assert_eq!(fold_header("data2Nascita"), "data2 nascita");
    assert_eq!(fold_header("N°"), "n");
}

#[test]
fn custom_aliases_and_duplicates() {
    let data = "Matricola;CF alunno;Codice fiscale genitore;Cognome\n1;RSSMRA80A41H501Y;BNCGUO10E12F205O;Rossi\n";
    let r = CsvReader::new(data.as_bytes()).unwrap();
    let h = r.headers();
    assert_eq!(h.mapping(0), Some(Mapping::Unmapped));
    assert_eq!(h.mapping(1), Some(Mapping::Field(Field::CodiceFiscale)));
    assert_eq!(h.mapping(2), Some(Mapping::Unmapped));
    assert_eq!(h.index(Field::Surname), Some(3));
    assert_eq!(
        h.require(Field::BirthDate).unwrap_err().code(),
        "csv_missing_column"
    );

    let aliases = Aliases::new()
        .with("codice fiscale genitore", Field::CodiceFiscale)
        .with("matricola", Field::IdAnpr);
    let r = ReaderBuilder::new()
        .aliases(aliases)
        .from_reader(data.as_bytes())
        .unwrap();
    let h = r.headers();
    assert_eq!(h.mapping(0), Some(Mapping::Field(Field::IdAnpr)));
    assert_eq!(h.mapping(1), Some(Mapping::Field(Field::CodiceFiscale)));
    assert_eq!(h.mapping(2), Some(Mapping::Duplicate(Field::CodiceFiscale)));
    assert_eq!(h.index(Field::CodiceFiscale), Some(1));
    // Finding a column by name, alias or field name.
    let a = r.aliases();
    assert_eq!(h.find("codice fiscale genitore", a), Some(2));
    assert_eq!(h.find("COGNOME", a), Some(3));
    assert_eq!(h.find("surname", a), Some(3));
    assert_eq!(h.find("codice_fiscale", a), Some(1));
    assert_eq!(h.find("Data di nascita", a), None);
}

// ---------------------------------------------------------------- dates

#[test]
fn date_forms() {
    let d = NaiveDate::from_ymd_opt(2012, 11, 30).unwrap();
    for s in [
        "30/11/2012",
        "30/11/2012 ",
        "2012-11-30",
        "30-11-2012",
        "2012-11-30T00:00:00",
    ] {
        assert_eq!(parse_date_it(s), Ok(d), "{s}");
    }
    let d = NaiveDate::from_ymd_opt(2012, 1, 3).unwrap();
    for s in ["3/1/2012", "03/01/2012", "3/01/2012", "2012-01-03"] {
        assert_eq!(parse_date_it(s), Ok(d), "{s}");
    }
    for (s, code) in [
        ("", "csv_date"),
        ("3/1/12", "csv_date"),
        ("2012/13", "csv_date"),
        ("tre gennaio", "csv_date"),
        ("12/30/2012x", "csv_date"),
        ("30/02/2012", "csv_date_nonexistent"),
        ("12/30/2012", "csv_date_nonexistent"),
        ("2013-02-29", "csv_date_nonexistent"),
        ("00/01/2012", "csv_date_nonexistent"),
    ] {
        assert_eq!(parse_date_it(s).unwrap_err().code(), code, "{s:?}");
    }
}

// ---------------------------------------------------------------- lines and records

#[test]
fn line_numbers_across_quoted_multiline_fields() {
    let data = b"Cognome;Indirizzo;Note\r\n\
                 Rossi;\"Via Roma 1\r\nScala B\r\n3\xb0 piano\";x\r\n\
                 \r\n\
                 Bianchi;\"Via \"\"Po\"\"\";\"a\nb\"\r\n\
                 Verdi;Piazza;\"fine\"";
    assert_eq!(
        read_all(data),
        [
            ok(2, &["Rossi", "Via Roma 1\r\nScala B\r\n3° piano", "x"]),
            ok(6, &["Bianchi", "Via \"Po\"", "a\nb"]),
            ok(8, &["Verdi", "Piazza", "fine"]),
        ]
    );
}

#[test]
fn lone_cr_and_mixed_line_endings() {
    let data = b"A;B\r1;2\r\r3;4\n5;6\r\n\"7\r\";8\r9;10";
    assert_eq!(
        read_all(data),
        [
            ok(2, &["1", "2"]),
            ok(4, &["3", "4"]),
            ok(5, &["5", "6"]),
            ok(6, &["7\r", "8"]),
            ok(8, &["9", "10"]),
        ]
    );
}

#[test]
fn bad_rows_in_the_middle_and_the_rest_is_read() {
    let data = b"Cognome;Nome;CF\n\
                 Rossi;Maria;RSSMRA80A41H501Y\n\
                 Solo;due\n\
                 Bianchi;Ugo;BNCGUO10E12F205O;extra\n\
                 \"Il \"Duomo\"\";x;y\n\
                 Esposti;Zoe;SPSZOE12S70L219J\n";
    assert_eq!(
        read_all(data),
        [
            ok(2, &["Rossi", "Maria", "RSSMRA80A41H501Y"]),
            bad(3, "csv_field_count"),
            bad(4, "csv_field_count"),
            bad(5, "csv_quote"),
            ok(6, &["Esposti", "Zoe", "SPSZOE12S70L219J"]),
        ]
    );
    let mut r = CsvReader::new(&data[..]).unwrap();
    let errors: Vec<CsvError> = r.rows().filter_map(Result::err).collect();
    assert!(matches!(
        errors[0],
        CsvError::FieldCount {
            line: 3,
            expected: 3,
            found: 2
        }
    ));
    assert!(matches!(
        errors[2],
        CsvError::Quote {
            line: 5,
            column: 1,
            problem: QuoteProblem::TextAfterClosingQuote
        }
    ));
    assert_eq!((r.stats().rows, r.stats().bad_rows), (2, 3));
}

#[test]
fn a_stray_quote_costs_one_row() {
    // The quote opened on line 3 would swallow everything up to line 5's.
    let data = b"Cognome;Nome;Note\n\
                 Rossi;Maria;-\n\
                 \"Bianchi;Ugo;-\n\
                 Verdi;Ada;-\n\
                 Neri;Ivo;\"a, b\"\n\
                 Gialli;Eva;-\n";
    assert_eq!(
        read_all(data),
        [
            ok(2, &["Rossi", "Maria", "-"]),
            bad(3, "csv_quote"),
            ok(4, &["Verdi", "Ada", "-"]),
            ok(5, &["Neri", "Ivo", "a, b"]),
            ok(6, &["Gialli", "Eva", "-"]),
        ]
    );
    // Never closed at all: the same.
    let data = b"A;B\n1;2\n\"3;4\n5;6\n7;8";
    assert_eq!(
        read_all(data),
        [
            ok(2, &["1", "2"]),
            bad(3, "csv_quote"),
            ok(4, &["5", "6"]),
            ok(5, &["7", "8"])
        ]
    );
    // In a one-column file, too.
    let data = b"CF\n\"RSSMRA80A41H501Y\nBNCGUO10E12F205O\n";
    assert_eq!(
        read_all(data),
        [bad(2, "csv_quote"), ok(3, &["BNCGUO10E12F205O"])]
    );
}

#[test]
fn a_record_over_the_limit_is_an_error_row() {
    let mut data = b"A;B\n1;2\n".to_vec();
    data.extend(std::iter::repeat_n(b'x', 5000));
    data.extend_from_slice(b";y\n3;4\n\"unclosed;");
    data.extend(std::iter::repeat_n(b'z', 3000));
    data.extend_from_slice(b"\n5;6\n");
    let r = ReaderBuilder::new()
        .max_record_bytes(1024)
        .from_reader(&data[..])
        .unwrap();
    assert_eq!(
        read_all_with(r),
        [
            ok(2, &["1", "2"]),
            bad(3, "csv_record_too_long"),
            ok(4, &["3", "4"]),
            bad(5, "csv_record_too_long"),
            ok(6, &["5", "6"]),
        ]
    );
    // A quote left open over many lines: a quoting error, not a long record.
    let mut data = b"A;B\n1;2\n\"stray;x\n".to_vec();
    for _ in 0..500 {
        data.extend_from_slice(b"3;4\n");
    }
    let r = ReaderBuilder::new()
        .max_record_bytes(1024)
        .from_reader(&data[..])
        .unwrap();
    let rows = read_all_with(r);
    assert_eq!(rows.len(), 502);
    assert_eq!(rows[1], bad(3, "csv_quote"));
    assert_eq!(rows[2], ok(4, &["3", "4"]));
    assert_eq!(rows[501], ok(503, &["3", "4"]));
}

#[test]
fn lenient_field_count() {
    let data = b"A;B;C\n1;2\n1;2;3;4\n1;2;3\n";
    let r = ReaderBuilder::new()
        .strict(false)
        .from_reader(&data[..])
        .unwrap();
    let rows = read_all_with(r);
    assert_eq!(
        rows,
        [
            ok(2, &["1", "2"]),
            ok(3, &["1", "2", "3", "4"]),
            ok(4, &["1", "2", "3"])
        ]
    );
    let mut r = ReaderBuilder::new()
        .strict(false)
        .from_reader(&data[..])
        .unwrap();
    let mut row = Row::new();
    assert!(matches!(r.read_row(&mut row).unwrap(), ReadOutcome::Row));
    assert_eq!((row.get(1), row.get(2)), (Some("2"), None));
}

#[test]
fn blank_lines_empty_rows_and_trailing_delimiters() {
    let data = b"A;B;C;\n\n1;2;3;\n;;\n;;;;\n\"\";;;\n4;5;6\n7;8;9;;;\n";
    let mut r = CsvReader::new(&data[..]).unwrap();
    // The header's trailing delimiter makes an empty fourth column.
    assert_eq!(r.headers().names(), ["A", "B", "C", ""]);
    assert_eq!(
        read_all_with(r),
        [
            ok(3, &["1", "2", "3", ""]),
            ok(6, &["", "", "", ""]),
            bad(7, "csv_field_count"),
            ok(8, &["7", "8", "9", ""]),
        ]
    );
    r = CsvReader::new(&data[..]).unwrap();
    r.rows().for_each(drop);
    assert_eq!(r.stats().blank_lines, 1);
    assert_eq!(r.stats().empty_rows, 2);
    assert_eq!((r.stats().rows, r.stats().bad_rows), (3, 1));
    let data = b"A;B\n1;2;\n3;4;;\n5;6;x\n";
    assert_eq!(
        read_all(data),
        [
            ok(2, &["1", "2"]),
            ok(3, &["3", "4"]),
            bad(4, "csv_field_count")
        ]
    );
}

#[test]
fn chunk_boundaries_do_not_matter() {
    let mut data = b"\xEF\xBB\xBFsep=;\r\nCognome;Note\r\n\r".to_vec();
    data.extend_from_slice(b"Rossi;\"a\r\nb\"\"c\"\r\n\"x\"y;1\r\n\"open;2\r\nVerdi;ok\r\r\n;\n");
    data.extend_from_slice("Zoë;€\n".as_bytes());
    let whole = read_all(&data);
    assert_eq!(whole.len(), 5, "{whole:?}");
    for n in 1..=9 {
        let r = CsvReader::new(Trickle { data: &data, n }).unwrap();
        assert_eq!(read_all_with(r), whole, "chunks of {n}");
    }
}

#[test]
fn io_errors_are_fatal() {
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            let line = b"a;b\n";
            let k = line.len().min(buf.len());
            buf[..k].copy_from_slice(&line[..k]);
            self.0 -= 1;
            Ok(k)
        }
    }
    assert_eq!(CsvReader::new(Failing(0)).unwrap_err().code(), "csv_io");
    // The first 64 KiB are read when opening; the error comes after.
    let mut r = CsvReader::new(Failing(20_000)).unwrap();
    let items: Vec<_> = r.rows().collect();
    assert_eq!(items.len(), 20_000);
    assert!(items[..19_999].iter().all(Result::is_ok));
    assert_eq!(items[19_999].as_ref().unwrap_err().code(), "csv_io");
}

#[test]
fn row_debug_shows_no_data() {
    let data = b"CF\nRSSMRA80A41H501Y\n";
    let mut r = CsvReader::new(&data[..]).unwrap();
    let row = r.rows().next().unwrap().unwrap();
    let debug = format!("{row:?} {r:?}");
    assert!(!debug.contains("RSSMRA"), "{debug}");
}

// ---------------------------------------------------------------- writer

fn write(opts: WriterOptions, rows: &[&[&str]]) -> Vec<u8> {
    let mut w = CsvWriter::new(Vec::new(), opts);
    for r in rows {
        w.write_row(r.iter()).unwrap();
    }
    w.into_inner().unwrap()
}

#[test]
fn excel_profile() {
    let out = write(
        WriterOptions::excel(),
        &[
            &["Cognome", "Nome"],
            &["Nardèlli", "Zoë; \"Z\""],
            &["", ""],
            &[" a", "b "],
        ],
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\u{feff}Cognome;Nome\r\nNardèlli;\"Zoë; \"\"Z\"\"\"\r\n\"\";\r\n\" a\";\"b \"\r\n"
    );
}

#[test]
fn machine_profile() {
    let mut w = CsvWriter::new(Vec::new(), WriterOptions::machine());
    w.write_row(["cf", "birth_date", "note"]).unwrap();
    w.field("RSSMRA80A41H501Y").unwrap();
    w.date(NaiveDate::from_ymd_opt(1980, 1, 1).unwrap())
        .unwrap();
    w.field("a,b\nc;d").unwrap();
    w.end_row().unwrap();
    let out = w.into_inner().unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "cf,birth_date,note\nRSSMRA80A41H501Y,1980-01-01,\"a,b\nc;d\"\n"
    );
    let out = write(
        WriterOptions::machine().line_ending(LineEnding::Crlf),
        &[&["x"], &[""], &["\r"]],
    );
    assert_eq!(out, b"x\r\n\"\"\r\n\"\r\"\r\n");
}

#[test]
fn header_fields_are_quoted_for_sniffing() {
    let out = write(
        WriterOptions::excel().bom(false),
        &[
            &["Cognome, Nome", "a|b", "sep"],
            &["Rossi, Maria", "x|y", "z"],
        ],
    );
    assert_eq!(
        out,
        b"\"Cognome, Nome\";\"a|b\";sep\r\nRossi, Maria;x|y;z\r\n"
    );
    let out = write(WriterOptions::machine(), &[&["sep=;"], &["sep=;"]]);
    assert_eq!(out, b"\"sep=;\"\nsep=;\n");
}

#[test]
fn windows_1252_output() {
    let opts = WriterOptions::excel().encoding(Encoding::Windows1252);
    let out = write(opts, &[&["Comune", "Importo"], &["Forlì", "€ 5"]]);
    assert_eq!(out, b"Comune;Importo\r\nForl\xec;\x80 5\r\n");
    // Reads back.
    assert_eq!(read_all(&out), [ok(2, &["Forlì", "€ 5"])]);

    let mut w = CsvWriter::new(Vec::new(), opts);
    w.write_row(["Cognome", "Nome"]).unwrap();
    let e = w.write_row(["Kovač", "Ivo"]).unwrap_err();
    assert_eq!(e.code(), "csv_unencodable");
    assert!(matches!(
        e,
        CsvError::Unencodable {
            row: 2,
            column: 1,
            ch: 'č',
            ..
        }
    ));
    // The failed row is dropped, the writer goes on.
    w.write_row(["Rossi", "Ada"]).unwrap();
    assert_eq!(w.into_inner().unwrap(), b"Cognome;Nome\r\nRossi;Ada\r\n");

    let opts = opts.unmappable(Unmappable::Substitute);
    let out = write(opts, &[&["Cognome"], &["Kovač Łukasz 😀"]]);
    assert_eq!(out, b"Cognome\r\nKovac Lukasz ?\r\n");
}

#[test]
fn written_files_read_back() {
    let rows: &[&[&str]] = &[
        &["Cognome", "Nome;secondo", "Note"],
        &["D'Ambrosi", "Nicolò", "a\r\nb"],
        &["\"q\"", " lead", "trail "],
        &["", "", ""],
        &["€", "|", "\t"],
    ];
    for opts in [
        WriterOptions::excel(),
        WriterOptions::machine(),
        WriterOptions::excel().encoding(Encoding::Windows1252),
        WriterOptions::machine().delimiter(b'\t'),
        WriterOptions::machine().delimiter(b'|'),
    ] {
        let out = write(opts, rows);
        let mut r = CsvReader::new(&out[..]).unwrap();
        assert_eq!(r.dialect().delimiter(), Some(opts.get_delimiter()));
        assert_eq!(r.dialect().encoding(), opts.get_encoding());
        assert_eq!(r.headers().names(), rows[0]);
        let back: Vec<Vec<String>> = r.rows().map(|x| x.unwrap().to_vec()).collect();
        assert_eq!(back.len(), rows.len() - 1, "{opts:?}");
        for (a, b) in back.iter().zip(&rows[1..]) {
            assert_eq!(a, b, "{opts:?}");
        }
    }
}

#[test]
fn error_codes_are_stable() {
    let codes: Vec<&str> = [
        CsvError::Io(io::Error::other("x")),
        CsvError::Empty,
        CsvError::Utf16,
        CsvError::Encoding {
            line: 1,
            column: 1,
            encoding: Encoding::Utf8,
        },
        CsvError::FieldCount {
            line: 1,
            expected: 2,
            found: 1,
        },
        CsvError::Quote {
            line: 1,
            column: 1,
            problem: QuoteProblem::Unclosed,
        },
        CsvError::RecordTooLong { line: 1, limit: 1 },
        CsvError::MissingColumn {
            wanted: "cf".into(),
        },
        CsvError::Unencodable {
            row: 1,
            column: 1,
            ch: 'č',
            encoding: Encoding::Windows1252,
        },
    ]
    .iter()
    .map(|e| e.code())
    .collect();
    assert_eq!(
        codes,
        [
            "csv_io",
            "csv_empty",
            "csv_encoding",
            "csv_encoding",
            "csv_field_count",
            "csv_quote",
            "csv_record_too_long",
            "csv_missing_column",
            "csv_unencodable"
        ]
    );
}

// ---------------------------------------------------------------- synthetic corpus

#[test]
fn synthetic_people_read_back_with_the_written_counts() {
    use anist_core::cf::CodiceFiscale;
    use anist_core::csvio::synthetic::write_people;
    let opts = WriterOptions::excel()
        .encoding(Encoding::Windows1252)
        .unmappable(Unmappable::Substitute);
    let mut w = CsvWriter::new(Vec::new(), opts);
    let summary = write_people(&mut w, 5000, 7).unwrap();
    let data = w.into_inner().unwrap();
    let mut r = CsvReader::new(&data[..]).unwrap();
    assert_eq!(r.dialect().encoding(), Encoding::Windows1252);
    let h = r.headers().clone();
    let cf = h.index(Field::CodiceFiscale).unwrap();
    let born = h.index(Field::BirthDate).unwrap();
    assert_eq!(h.index(Field::BirthPlace), Some(4));
    let (mut bad_cf, mut empty_cf, mut bad_date, mut n, mut accented) = (0, 0, 0, 0, 0);
    let mut row = Row::new();
    while let ReadOutcome::Row = r.read_row(&mut row).unwrap() {
        n += 1;
        let code = row.get(cf).unwrap();
        if code.is_empty() {
            empty_cf += 1;
        } else if CodiceFiscale::parse(code).is_err() {
            bad_cf += 1;
        }
        if parse_date_it(row.get(born).unwrap()).is_err() {
            bad_date += 1;
        }
        if row.iter().any(|f| !f.is_ascii()) {
            accented += 1;
        }
    }
    assert_eq!(n, summary.rows);
    assert_eq!(bad_cf, summary.invalid_cf);
    assert_eq!(empty_cf, summary.empty_cf);
    assert_eq!(bad_date, summary.invalid_dates);
    assert!(accented > 100, "{accented}");
    assert!(summary.invalid_cf > 100 && summary.invalid_dates > 10);
}

#[test]
fn lines_read_counts_a_last_line_without_break() {
    for (data, lines) in [
        (&b"A\n1\n2"[..], 3),
        (b"A\n1\n2\n", 3),
        (b"A\r\n1\r\n\r\n", 3),
        (b"A\r1\r", 2),
        (b"A\n\"1\n2\"", 3),
        (b"A", 1),
    ] {
        let mut r = CsvReader::new(data).unwrap();
        r.rows().for_each(drop);
        assert_eq!(r.lines_read(), lines, "{data:?}");
        let mut r = CsvReader::new(Trickle { data, n: 1 }).unwrap();
        r.rows().for_each(drop);
        assert_eq!(r.lines_read(), lines, "{data:?} by bytes");
    }
}

/// Found by fuzzing: a quote inside an unquoted header field is an ordinary
/// character for the sniffer too, as for the parser.
#[test]
fn sniffing_follows_the_parser_quoting() {
    let data = b"2as\x0f\"\xc7\n\xc7\"\x81,\xaa";
    let r = CsvReader::new(&data[..]).unwrap();
    assert_eq!(r.dialect().delimiter(), None);
    assert_eq!(read_all(data), [ok(2, &["Ç\"\u{81},ª"])]);
    let r = CsvReader::new(&b"a\"b;c\"d,e\n"[..]).unwrap();
    assert_eq!(r.dialect().delimiter(), Some(b';'));
}

/// A delimiter candidate that only appears inside the quoted fields of
/// another one loses even on a tie, and a header that runs over lines only
/// for one candidate does not make it win.
#[test]
fn sniffing_prefers_a_clean_parse_of_the_header() {
    for (header, want) in [
        (&b"a,\"x;y\"\n"[..], b','),
        (b"a|\"x,y\"\n", b'|'),
        (b"\"Cognome; Nome\",CF\n", b','),
        (b"a\t\"x|y;z\"\n", b'\t'),
        (b"Cognome, Nome;Codice Fiscale\n", b';'),
        (b"\"a\nb\",c\n", b','),
        (b",\"|\"\"\"\"\"\nkS\n\"|\"\"\"\n", b','),
        (b"Nome \"alias\";Cognome\n", b';'),
    ] {
        let r = CsvReader::new(header).unwrap();
        assert_eq!(
            r.dialect().delimiter(),
            Some(want),
            "{:?}",
            String::from_utf8_lossy(header)
        );
    }
}
