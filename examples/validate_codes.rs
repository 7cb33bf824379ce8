//! Validate and decode codici fiscali from Rust.
//!
//! Run: `cargo run --example validate_codes`
//!
//! Every code here is synthetic.
#![allow(clippy::print_stdout)]

use anist::core::cf::{AnyCodiceFiscale, MostRecentNotFuture, PlaceFinding};
use anist::core::ErrorCode;
use chrono::NaiveDate;

fn main() {
    // Time is passed in, never read inside the library.
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
    let policy = MostRecentNotFuture::new(today);

    for input in [
        "RSSMRA80A01H501U",    // valid
        "rss mra 80a01 h50mm", // lower case, blanks, omocodic
        "RSSMRA80A01H501X",    // wrong check character
        "RSSMRA80D31H501",     // too short
        "00000010003",         // 11-digit provisional code
    ] {
        match AnyCodiceFiscale::parse(input) {
            Ok(AnyCodiceFiscale::Persona(cf)) => {
                let place = match cf.place_finding(&policy) {
                    PlaceFinding::ExistedAtBirth(era) => {
                        format!("{} ({})", era.name(), era.province())
                    }
                    other => format!("{other:?}"),
                };
                println!(
                    "{cf:?}: valid, sex {}, born {:?}, place {place}, omocodia level {}",
                    cf.sex().as_str(),
                    cf.birth_date(&policy),
                    cf.omocodia_level(),
                );
            }
            Ok(AnyCodiceFiscale::Numerico(n)) => {
                println!("{n:?}: valid 11-digit code, kind {}", n.kind().as_str());
            }
            Err(e) => {
                // Stable code, position and message; never the whole code.
                println!("invalid [{}] at {:?}: {e}", e.code(), e.position());
            }
        }
    }
}
