//! A synthetic municipal-style CSV of people, for tests, benchmarks and
//! samples. Never real people: see [`crate::synthetic`].

use std::io::Write;

use chrono::{Datelike, NaiveDate};

use super::{CsvError, CsvWriter, DateStyle};
use crate::place;
use crate::synthetic::SyntheticPeople;

/// The header [`write_people`] writes.
pub const PEOPLE_HEADER: [&str; 5] = [
    "Cognome",
    "Nome",
    "Codice Fiscale",
    "Data di nascita",
    "Comune di nascita",
];

/// What [`write_people`] wrote, to check a reader's findings against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeopleSummary {
    /// Data rows (the header not included).
    pub rows: u64,
    /// Rows whose codice fiscale is invalid on purpose.
    pub invalid_cf: u64,
    /// Rows with an empty codice fiscale.
    pub empty_cf: u64,
    /// Rows whose birth date does not exist (`31/02/yyyy`).
    pub invalid_dates: u64,
}

/// Writes the header and `rows` synthetic people born 1930–2024, seeded:
/// `Cognome`, `Nome`, `Codice Fiscale`, `Data di nascita`, `Comune di nascita`.
///
/// Codes: 90% valid as written, 2% valid but lower-case with blanks, 4% with a
/// wrong check character, 2% one character short, 1% with a bad month
/// letter, 1% empty. Dates: mostly `dd/mm/yyyy`, one in ten `d/m/yyyy`,
/// one in ten ISO, one in a hundred a day that does not exist. Names include
/// accented letters (`Nicolò`, `Zoë`, `Nuñez`, `Kovač`): for Windows-1252
/// output, set [`Unmappable::Substitute`](super::Unmappable::Substitute) or
/// the `č` stops the writer.
pub fn write_people<W: Write>(
    w: &mut CsvWriter<W>,
    rows: u64,
    seed: u64,
) -> Result<PeopleSummary, CsvError> {
    let from = NaiveDate::from_ymd_opt(1930, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default();
    let mut people = SyntheticPeople::new(seed, from, to);
    let mut summary = PeopleSummary::default();
    w.write_row(PEOPLE_HEADER)?;
    let mut cf_text = String::with_capacity(32);
    let mut date_text = String::with_capacity(16);
    for _ in 0..rows {
        let p = people.next_person();
        let mut code = *p.codice_fiscale.as_bytes();
        let cf_roll = people.rng().below(100);
        let date_roll = people.rng().below(100);
        cf_text.clear();
        match cf_roll {
            0..=89 => cf_text.push_str(p.codice_fiscale.as_str()),
            90..=91 => {
                let lower = p.codice_fiscale.as_str().to_ascii_lowercase();
                cf_text.push_str(&lower[..6]);
                cf_text.push(' ');
                cf_text.push_str(&lower[6..11]);
                cf_text.push(' ');
                cf_text.push_str(&lower[11..]);
            }
            92..=95 => {
                code[15] = if code[15] == b'Z' { b'A' } else { code[15] + 1 };
                cf_text.push_str(&String::from_utf8_lossy(&code));
            }
            96..=97 => cf_text.push_str(&p.codice_fiscale.as_str()[..15]),
            98 => {
                code[8] = b'Z';
                cf_text.push_str(&String::from_utf8_lossy(&code));
            }
            _ => {}
        }
        match cf_roll {
            92..=98 => summary.invalid_cf += 1,
            99 => summary.empty_cf += 1,
            _ => {}
        }
        let d = p.birth_date;
        date_text.clear();
        match date_roll {
            0..=79 => date_text.push_str(&DateStyle::Italian.format(d)),
            80..=89 => date_text.push_str(&format!("{}/{}/{}", d.day(), d.month(), d.year())),
            90..=98 => date_text.push_str(&DateStyle::Iso.format(d)),
            _ => {
                summary.invalid_dates += 1;
                date_text.push_str(&format!("31/02/{}", d.year()));
            }
        }
        let code4 = p.place_code.as_bytes();
        let place_name = <[u8; 4]>::try_from(code4)
            .ok()
            .and_then(|c| place::at_date(&c, d).or_else(|| place::latest(&c)))
            .map_or("", |e| e.name());
        w.field(p.surname)?;
        w.field(p.name)?;
        w.field(&cf_text)?;
        w.field(&date_text)?;
        w.field(place_name)?;
        w.end_row()?;
        summary.rows += 1;
    }
    Ok(summary)
}
