//! Regenerates `examples/data/residenti.csv`, the synthetic sample the README's
//! first command checks: a municipal-style CSV (`;`, UTF-8 with BOM, CRLF) of
//! invented residents, with a few omocodic, badly typed and invalid codes.
//!
//! Run: `cargo run --example generate_sample` (writes the file), or with
//! `-- --check` to verify that the committed file is up to date.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use anist::core::cf::CodiceFiscale;
use anist::core::synthetic::SyntheticPeople;
use chrono::NaiveDate;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/residenti.csv");

fn sample() -> String {
    let from = NaiveDate::from_ymd_opt(2008, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2021, 12, 31).unwrap_or_default();
    let mut people = SyntheticPeople::new(20261123, from, to);
    let mut out = String::from("\u{feff}Cognome;Nome;Codice Fiscale;Data di nascita\r\n");
    for i in 0..40 {
        let p = people.next_person();
        let cf = p.codice_fiscale;
        let written = match i {
            5 => cf.with_omocodia_level(1).to_string(),
            11 => cf.with_omocodia_level(3).to_string(),
            17 => {
                let s = cf.to_string().to_lowercase();
                format!("{} {} {}", &s[..6], &s[6..11], &s[11..])
            }
            23 => wrong_check_char(cf),
            29 => cf.to_string()[..15].to_owned(),
            35 => {
                let mut s = cf.to_string();
                s.replace_range(8..9, "Z");
                s
            }
            _ => cf.to_string(),
        };
        out.push_str(&format!(
            "{};{};{};{}\r\n",
            p.surname,
            p.name,
            written,
            p.birth_date.format("%d/%m/%Y")
        ));
    }
    out
}

fn wrong_check_char(cf: CodiceFiscale) -> String {
    let mut b = *cf.as_bytes();
    b[15] = if b[15] == b'A' { b'B' } else { b'A' };
    String::from_utf8_lossy(&b).into_owned()
}

fn main() -> ExitCode {
    let text = sample();
    if std::env::args().any(|a| a == "--check") {
        return match std::fs::read_to_string(PATH) {
            Ok(current) if current == text => ExitCode::SUCCESS,
            _ => {
                eprintln!("{PATH} is out of date: run `cargo run --example generate_sample`");
                ExitCode::FAILURE
            }
        };
    }
    match std::fs::write(PATH, text) {
        Ok(()) => {
            println!("wrote {PATH}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {PATH}: {e}");
            ExitCode::FAILURE
        }
    }
}
