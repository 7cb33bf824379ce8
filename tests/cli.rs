//! End-to-end tests of the `anist` binary. All codes are synthetic.

use std::process::Output;

mod common;
use common::anist;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const HEADER: &str =
    "input,valid,normalized,error,birth_date,sex,place_code,place_name,omocodia_level,warnings";

#[test]
fn check_lines_reports_every_code_and_exits_1_on_invalid() {
    let input = "\u{feff}RSSMRA80A01H501U\r\nrss mra 80a01 h501u\n\nRSSMRA80A01H501X\n00000010003\nRSSMRA20C15H501\n";
    let o = anist(&["cf", "check", "--today", "2026-11-23"], input.as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out.split("\r\n").collect();
    assert_eq!(lines[0], HEADER);
    assert_eq!(
        lines[1],
        "RSSMRA80A01H501U,true,RSSMRA80A01H501U,,1980-01-01,M,H501,ROMA,0,"
    );
    assert_eq!(
        lines[2],
        "rss mra 80a01 h501u,true,RSSMRA80A01H501U,,1980-01-01,M,H501,ROMA,0,"
    );
    assert_eq!(lines[3], "RSSMRA80A01H501X,false,,cf_check_char,,,,,,");
    assert_eq!(lines[4], "00000010003,true,00000010003,,,,,,,");
    assert_eq!(lines[5], "RSSMRA20C15H501,false,,cf_length,,,,,,");
    assert_eq!(lines.len(), 7, "{out}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("controllati 5 codici: 3 validi"));
}

#[test]
fn check_exits_0_when_all_valid() {
    let o = anist(&["cf", "check", "-", "--quiet"], b"RSSMRA80A01H501U\n");
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty());
}

#[test]
fn check_csv_column_with_sniffed_delimiter() {
    let input = "Cognome;Codice Fiscale;Note\r\nRossi;RSSMRA80A01H501U;\"a;b\"\r\nVerdi;\"RSSMRA80A01H501X\";\r\n";
    let o = anist(
        &["cf", "check", "--column", "codice fiscale"],
        input.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with("RSSMRA80A01H501U,true,"));
    assert!(lines[2].starts_with("RSSMRA80A01H501X,false,,cf_check_char"));
}

#[test]
fn check_missing_column_is_a_usage_error() {
    let o = anist(&["cf", "check", "--column", "cf"], b"a,b\n1,2\n");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("csv_missing_column") && err.contains("a, b"),
        "{err}"
    );
}

#[test]
fn check_missing_file_is_an_io_error() {
    let o = anist(&["cf", "check", "/nonexistent/codes.txt"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot open"));
}

#[test]
fn input_needing_quotes_is_quoted() {
    let o = anist(&["cf", "check"], b"AB,\"C\n");
    assert_eq!(
        stdout(&o).lines().nth(1),
        Some("\"AB,\"\"C\",false,,cf_char,,,,,,")
    );
}

#[test]
fn decode_and_encode() {
    let o = anist(
        &["cf", "decode", "RSSMRA80A01H50MM", "--today", "2026-11-23"],
        b"",
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("canonical:      RSSMRA**A01H501*"), "{out}");
    assert!(!out.contains("RSSMRA80A01H501U"), "{out}");
    let o = anist(
        &["cf", "decode", "RSSMRA80A01H50MM", "--show-canonical"],
        b"",
    );
    assert!(stdout(&o).contains("canonical:      RSSMRA80A01H501U"));
    assert!(out.contains("omocodia level: 1"));
    assert!(out.contains("birth date:     1980-01-01"));
    assert!(out.contains("H501 ROMA (RM)"));

    let o = anist(&["cf", "decode", "RSSMRA80A01H501X"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cf_check_char"));

    let encode = |sex: &str, place: &str, extra: &[&str]| {
        let mut args = vec![
            "cf",
            "encode",
            "--surname",
            "Rossi",
            "--name",
            "Mario",
            "--born",
            "1980-01-01",
            "--sex",
            sex,
            "--place",
            place,
        ];
        args.extend_from_slice(extra);
        anist(&args, b"")
    };
    assert_eq!(stdout(&encode("M", "Roma", &[])).trim(), "RSSMRA80A01H501U");
    assert_eq!(
        stdout(&encode("M", "H501", &["--omocodia", "1"])).trim(),
        "RSSMRA80A01H50MM"
    );
    assert_eq!(encode("X", "H501", &[]).status.code(), Some(2));
    let o = encode("M", "Atlantide", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("place_unknown"));
}

#[test]
fn check_csv_column_windows_1252_alias_and_bad_record() {
    // Windows-1252 bytes (0xE0 = à), the column found through an alias, an
    // unclosed quote reported as its own row while the rest is still read.
    let mut input = b"Cognome;CODFISC\r\nNicol\xe0;RSSMRA80A01H501U\r\n".to_vec();
    input.extend_from_slice(b"\"Bad;RSSMRA80A01H501U\r\n");
    let o = anist(&["cf", "check", "--column", "codice fiscale"], &input);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[1].starts_with("RSSMRA80A01H501U,true,"), "{out}");
    assert_eq!(lines[2], ",false,,csv_quote,,,,,,");
    assert_eq!(lines.len(), 3);
}
