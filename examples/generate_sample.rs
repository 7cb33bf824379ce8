//! Regenerates the synthetic samples of `examples/data/`:
//!
//! - `residenti.csv`: what `anist cf check` is shown on — a municipal-style
//!   CSV (`;`, UTF-8 with BOM, CRLF) of 40 invented residents, with a few
//!   omocodic, badly typed and invalid codes;
//! - `anagrafe.csv`: what `anist demo` runs the school-attendance check on —
//!   5,000 invented residents born 2002–2023 (minors of compulsory-school age,
//!   younger children and adults), in Windows-1252 with `;` and CRLF as an
//!   old registry export writes it, with some invalid codes and some
//!   residents listed twice.
//!
//! Run: `cargo run --example generate_sample` (writes the files), or with
//! `-- --check` to verify that the committed files are up to date.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use anist::core::cf::CodiceFiscale;
use anist::core::synthetic::SyntheticPeople;
use chrono::NaiveDate;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/residenti.csv");
const DEMO_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/anagrafe.csv");
/// Rows of the demo sample.
const DEMO_ROWS: usize = 5000;

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

/// The demo's registry export, encoded in Windows-1252 (characters it
/// lacks are transliterated, as old exports do).
fn demo_sample() -> Vec<u8> {
    let from = NaiveDate::from_ymd_opt(2002, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2023, 12, 31).unwrap_or_default();
    let mut people = SyntheticPeople::new(20_250_915, from, to);
    let mut text = String::from("COGNOME;NOME;SESSO;DATA_NASCITA;CODICE_FISCALE;INDIRIZZO\r\n");
    let mut previous = None;
    for i in 0..DEMO_ROWS {
        let p = people.next_person();
        let street = (i * 7919) % 200 + 1;
        let (p, cf) = match i % 250 {
            // A resident listed twice (the same person again).
            17 => match previous.clone() {
                Some(prev) => prev,
                None => (p.clone(), p.codice_fiscale.to_string()),
            },
            // Typing errors: wrong check character, missing character,
            // impossible month.
            41 => (p.clone(), wrong_check_char(p.codice_fiscale)),
            97 => (p.clone(), p.codice_fiscale.to_string()[..15].to_owned()),
            163 => {
                let mut s = p.codice_fiscale.to_string();
                s.replace_range(8..9, "Z");
                (p.clone(), s)
            }
            // Written in lower case with blanks, as typed at a desk.
            211 => {
                let s = p.codice_fiscale.to_string().to_lowercase();
                (p.clone(), format!("{} {} {}", &s[..6], &s[6..11], &s[11..]))
            }
            _ => (p.clone(), p.codice_fiscale.to_string()),
        };
        text.push_str(&format!(
            "{};{};{};{};{};Via Roma {}\r\n",
            p.surname.to_uppercase(),
            p.name.to_uppercase(),
            match p.sex {
                anist::core::cf::Sex::Male => "M",
                anist::core::cf::Sex::Female => "F",
            },
            p.birth_date.format("%d/%m/%Y"),
            cf,
            street
        ));
        previous = Some((p, cf));
    }
    text.chars()
        .flat_map(|c| {
            let mut buf = [0u8; 4];
            let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
            if unmappable {
                deunicode::deunicode_char(c)
                    .unwrap_or("?")
                    .as_bytes()
                    .to_vec()
            } else {
                bytes.into_owned()
            }
        })
        .collect()
}

fn wrong_check_char(cf: CodiceFiscale) -> String {
    let mut b = *cf.as_bytes();
    b[15] = if b[15] == b'A' { b'B' } else { b'A' };
    String::from_utf8_lossy(&b).into_owned()
}

fn main() -> ExitCode {
    let files = [(PATH, sample().into_bytes()), (DEMO_PATH, demo_sample())];
    let check = std::env::args().any(|a| a == "--check");
    let mut status = ExitCode::SUCCESS;
    for (path, bytes) in files {
        if check {
            match std::fs::read(path) {
                Ok(current) if current == bytes => {}
                _ => {
                    eprintln!("{path} is out of date: run `cargo run --example generate_sample`");
                    status = ExitCode::FAILURE;
                }
            }
            continue;
        }
        match std::fs::write(path, bytes) {
            Ok(()) => println!("wrote {path}"),
            Err(e) => {
                eprintln!("cannot write {path}: {e}");
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}
