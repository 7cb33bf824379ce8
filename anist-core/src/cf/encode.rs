//! Building a codice fiscale from personal data.

use chrono::{Datelike, NaiveDate};

use super::error::CfError;
use super::tables::MONTH_LETTERS;
use super::{checks, BelfioreCode, CodiceFiscale, Sex};
use crate::place;

/// How the place of birth is given when encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacePart<'a> {
    /// A Belfiore code such as `H501` or `Z200`.
    Code(&'a str),
    /// A comune or foreign-state name, resolved at the birth date; add the
    /// province to disambiguate: `"Calliano (AT)"`.
    Name(&'a str),
}

/// What a codice fiscale is built from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PersonData<'a> {
    /// Surname(s), as written (accents, apostrophes, spaces, foreign letters allowed).
    pub surname: &'a str,
    /// Given name(s).
    pub name: &'a str,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Sex.
    pub sex: Sex,
    /// Place of birth.
    pub place: PlacePart<'a>,
    /// Omocodia level 0-7 (0 = the ordinary code): the given number of
    /// rightmost digit positions are written as letters.
    pub omocodia_level: u8,
}

/// Masked: no names and no date.
impl std::fmt::Debug for PersonData<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonData")
            .field("sex", &self.sex)
            .field("omocodia_level", &self.omocodia_level)
            .finish_non_exhaustive()
    }
}

/// Upper-case ASCII letters of `s` after transliteration (accents removed,
/// foreign letters spelled in Latin letters, everything else dropped).
fn letters(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut push = |c: char| {
        if c.is_ascii_alphabetic() {
            out.push(c.to_ascii_uppercase() as u8);
        }
    };
    for c in s.chars() {
        if c.is_ascii() {
            push(c);
        } else {
            deunicode::deunicode_char(c)
                .unwrap_or("")
                .chars()
                .for_each(&mut push);
        }
    }
    out
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'A' | b'E' | b'I' | b'O' | b'U')
}

fn three(consonants: impl Iterator<Item = u8>, vowels: &[u8]) -> [u8; 3] {
    let mut out = [b'X'; 3];
    for (slot, b) in out.iter_mut().zip(consonants.chain(vowels.iter().copied())) {
        *slot = b;
    }
    out
}

/// The three surname characters (positions 1-3): consonants, then vowels,
/// then `X`. `None` if the surname has no letters.
///
/// ```
/// use anist_core::cf::encode_surname_part;
/// assert_eq!(encode_surname_part("D'Angelo"), Some(*b"DNG"));
/// assert_eq!(encode_surname_part("Fo"), Some(*b"FOX"));
/// ```
pub fn encode_surname_part(surname: &str) -> Option<[u8; 3]> {
    let l = letters(surname);
    if l.is_empty() {
        return None;
    }
    let (v, c): (Vec<u8>, Vec<u8>) = l.into_iter().partition(|&b| is_vowel(b));
    Some(three(c.into_iter(), &v))
}

/// The three name characters (positions 4-6): a name with four or more
/// consonants takes the 1st, 3rd and 4th; otherwise as for the surname.
///
/// ```
/// use anist_core::cf::encode_name_part;
/// assert_eq!(encode_name_part("Gianfranco"), Some(*b"GFR"));
/// assert_eq!(encode_name_part("Mario"), Some(*b"MRA"));
/// ```
pub fn encode_name_part(name: &str) -> Option<[u8; 3]> {
    let l = letters(name);
    if l.is_empty() {
        return None;
    }
    let (v, c): (Vec<u8>, Vec<u8>) = l.into_iter().partition(|&b| is_vowel(b));
    if c.len() >= 4 {
        return Some([c[0], c[2], c[3]]);
    }
    Some(three(c.into_iter(), &v))
}

fn resolve_place(part: PlacePart<'_>, date: NaiveDate) -> Result<[u8; 4], CfError> {
    match part {
        PlacePart::Code(code) => match BelfioreCode::parse(code) {
            Some(b) if place::is_known(b.as_bytes()) => Ok(*b.as_bytes()),
            _ => Err(CfError::PlaceUnknown {
                code: code.trim().chars().take(8).collect(),
            }),
        },
        PlacePart::Name(name) => {
            let era = place::find_by_name(name, Some(date))?;
            BelfioreCode::parse(era.code())
                .map(|b| *b.as_bytes())
                .ok_or_else(|| CfError::PlaceUnknown {
                    code: era.code().to_owned(),
                })
        }
    }
}

pub(super) fn encode(p: &PersonData<'_>) -> Result<CodiceFiscale, CfError> {
    let surname =
        encode_surname_part(p.surname).ok_or(CfError::EncodeNoLetters { field: "surname" })?;
    let name = encode_name_part(p.name).ok_or(CfError::EncodeNoLetters { field: "name" })?;
    let year = p.birth_date.year();
    if !(1800..2200).contains(&year) {
        return Err(CfError::EncodeYear { year });
    }
    let yy = (year % 100) as u8;
    let month = MONTH_LETTERS[p.birth_date.month0() as usize];
    let day = p.birth_date.day() as u8 + if p.sex == Sex::Female { 40 } else { 0 };
    let place = resolve_place(p.place, p.birth_date)?;

    let mut b = [0u8; 16];
    b[..3].copy_from_slice(&surname);
    b[3..6].copy_from_slice(&name);
    b[6] = b'0' + yy / 10;
    b[7] = b'0' + yy % 10;
    b[8] = month;
    b[9] = b'0' + day / 10;
    b[10] = b'0' + day % 10;
    b[11..15].copy_from_slice(&place);
    b[15] = checks::compute_check_char(&b);
    Ok(CodiceFiscale::from_valid_bytes(b).with_omocodia_level(p.omocodia_level))
}
