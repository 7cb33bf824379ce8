//! End-to-end tests of `anist csv inspect`. All data is synthetic.

use std::path::PathBuf;

mod common;
use common::{anist, text};

use anist::core::csvio::synthetic::write_people;
use anist::core::csvio::{CsvWriter, Encoding, Unmappable, WriterOptions};

/// A temporary file removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, data: &[u8]) -> Self {
        let path =
            std::env::temp_dir().join(format!("anist-cli-csv-{}-{name}", std::process::id()));
        std::fs::write(&path, data).expect("write temp file");
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Windows-1252, `;`, a bad row, a stray quote, a blank line, an empty and
/// an invalid code, a day that does not exist.
const SAMPLE: &[u8] = b"Cognome;Nome;Codice Fiscale;Data di nascita;Comune\r\n\
Rossi;Maria;RSSMRA80A41H501Y;01/01/1980;Roma\r\n\
Nard\xe8lli;Ugo;BNCGUO10E12F205X;31/02/2010;Forl\xec\r\n\
Solo;due\r\n\
\r\n\
\"Esposti;Zoe;SPSZOE12S70L219J;-;-\r\n\
Verdi;Ada;;2/3/2001;X\r\n\
Bianchi;Ugo;bncguo 10e12 f205o;2010-05-12;Y\r\n";

#[test]
fn inspect_reports_format_mapping_and_counts() {
    let f = TempFile::new("sample.csv", SAMPLE);
    let o = anist(&["csv", "inspect", f.path()], b"");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stderr.is_empty());
    let out = text(&o.stdout);
    let expected = "\
encoding:   Windows-1252
delimiter:  ';' (semicolon, sniffed on the header line)
header:     line 1, 5 columns
    1  Cognome          -> surname
    2  Nome             -> given_name
    3  Codice Fiscale   -> codice_fiscale
    4  Data di nascita  -> birth_date
    5  Comune           -> unmapped
rows:       4 read, 2 bad; 8 lines
skipped:    1 blank line
  csv_field_count          1
  csv_quote                1
  bad rows at lines: 4 (csv_field_count), 6 (csv_quote)
codici fiscali (column 3 \"Codice Fiscale\"): 2 valid, 1 invalid, 1 empty
  cf_check_char            1
birth dates (column 4 \"Data di nascita\"): 3 valid, 1 invalid, 0 empty
  csv_date_nonexistent     1
";
    assert_eq!(out, expected);
    // Never a value from the rows.
    for value in [
        "RSSMRA", "BNCGUO", "SPSZOE", "Rossi", "Maria", "Nard", "1980", "Roma",
    ] {
        assert!(!out.contains(value), "{value} printed");
    }
}

#[test]
fn inspect_a_chosen_column_and_standard_input() {
    let o = anist(&["csv", "inspect", "-", "--column", "NOME"], SAMPLE);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert!(
        out.contains("codici fiscali (column 2 \"Nome\"): 0 valid, 4 invalid, 0 empty\n  cf_length                4\n"),
        "{out}"
    );
}

#[test]
fn inspect_usage_and_io_errors_exit_2() {
    let o = anist(&["csv", "inspect", "-", "--column", "matricola"], SAMPLE);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(text(&o.stderr).contains("errore [csv_missing_column]"));

    let o = anist(&["csv", "inspect", "/nonexistent/anist/file.csv"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("cannot open"));

    let o = anist(&["csv", "inspect", "-"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("errore [csv_empty]"));

    let o = anist(&["csv", "inspect", "-"], b"\xff\xfeC\x00F\x00");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("errore [csv_encoding]"));

    let o = anist(&["csv", "inspect"], b"");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn inspect_masks_a_header_that_is_data() {
    let data = b"RSSMRA80A41H501Y;01/01/1980;Rossi\nBNCGUO10E12F205O;12/05/2010;Bianchi\n";
    let o = anist(&["csv", "inspect", "-"], data);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert!(
        !out.contains("RSSMRA") && !out.contains("01/01/1980"),
        "{out}"
    );
    assert!(
        out.contains("[a codice fiscale]") && out.contains("[a date]"),
        "{out}"
    );
    assert!(
        out.contains("warning:    the header line holds a codice fiscale"),
        "{out}"
    );
    assert!(out.contains("codici fiscali: no column mapped"), "{out}");
}

#[test]
fn inspect_utf8_with_bom_and_fallback_fields() {
    let mut data = "\u{feff}CF|Città\n".as_bytes().to_vec();
    data.extend_from_slice(b"RSSMRA80A41H501Y|Forl\xec\n");
    let o = anist(&["csv", "inspect", "-"], &data);
    let out = text(&o.stdout);
    assert!(
        out.starts_with("encoding:   UTF-8 (with BOM); 1 field not valid UTF-8 read as Windows-1252 (first at line 2)\ndelimiter:  '|' (pipe, sniffed on the header line)\n"),
        "{out}"
    );
    assert!(out.contains("    2  Città  -> unmapped\n"), "{out}");
}

#[test]
fn inspect_counts_match_a_generated_corpus() {
    let opts = WriterOptions::excel()
        .encoding(Encoding::Windows1252)
        .unmappable(Unmappable::Substitute);
    let mut w = CsvWriter::new(Vec::new(), opts);
    let s = write_people(&mut w, 3000, 11).unwrap();
    let f = TempFile::new("people.csv", &w.into_inner().unwrap());
    let o = anist(&["csv", "inspect", f.path()], b"");
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert!(
        out.contains(&format!(
            "rows:       {} read, 0 bad; {} lines\n",
            s.rows,
            s.rows + 1
        )),
        "{out}"
    );
    let valid = s.rows - s.invalid_cf - s.empty_cf;
    assert!(
        out.contains(&format!(
            "codici fiscali (column 3 \"Codice Fiscale\"): {valid} valid, {} invalid, {} empty\n",
            s.invalid_cf, s.empty_cf
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "birth dates (column 4 \"Data di nascita\"): {} valid, {} invalid, 0 empty\n",
            s.rows - s.invalid_dates,
            s.invalid_dates
        )),
        "{out}"
    );
}
